"""Dashboard pages: context and visible content of the overview, kecamatan, village and
"Tidak aktif" pages, over a store filled by polling the fleet and over a hand-made kecamatan
with a compromised village; plus the Indonesian formatting and the SVG charts."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlmodel import Session

from aggregator.decide.schedule import decide
from aggregator.decide.status import ATTENTION_STATUSES
from aggregator.models import Finding
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.types import Harvest, ParsedItem, PollOutcome, ServiceObservation
from aggregator.web import create_app
from aggregator.web.charts import Series, bar_chart, line_chart, sparkline, status_strip
from aggregator.web.formatting import angka, persen, sejak, tanggal, tanggal_pendek
from aggregator.web.kecamatan import NewsFilter, kecamatan_context, sort_villages
from aggregator.web.overview import overview_context
from aggregator.web.reports import report_context
from aggregator.web.village import village_context
from tests.conftest import LiveServer
from tests.test_web import FORMULA_TITLE, STORED_TITLE, news_village, polled_store

Polled = tuple[Store, dict[str, str]]
LONG_DATE = re.compile(
    r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} (Januari|Februari|Maret|April|Mei|"
    r"Juni|Juli|Agustus|September|Oktober|November|Desember) \d{4} \d{2}\.\d{2} WIB"
)


@pytest.fixture(scope="module")
def polled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Polled:
    return polled_store(request, tmp_path_factory)


@pytest.fixture(scope="module")
def client(polled: Polled) -> Iterator[httpx.Client]:
    store, _ = polled
    app = create_app(store.settings, store=store, run_scheduler=False, title="Sipande Uji")
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def html(response: httpx.Response) -> HTMLParser:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return HTMLParser(response.text)


def texts(tree: HTMLParser, selector: str) -> list[str]:
    return [n.text(strip=True) for n in tree.css(selector)]


def attrs(tree: HTMLParser, selector: str, name: str) -> list[str]:
    return [str(n.attributes.get(name)) for n in tree.css(selector)]


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def by_behaviour(data: Polled, behaviour: str) -> str:
    return next(c for c, b in data[1].items() if b == behaviour)


# --- formatting and charts ------------------------------------------------------------------


def test_dates_and_numbers_in_indonesian() -> None:
    moment = datetime(2025, 1, 23, 3, 12, tzinfo=UTC)
    assert tanggal(moment) == "Kamis, 23 Januari 2025"
    assert tanggal(moment, True) == "Kamis, 23 Januari 2025 10.12 WIB"
    assert tanggal("2025-08-16T18:30:00+00:00", True) == "Minggu, 17 Agustus 2025 01.30 WIB"
    assert tanggal(None) == "–" and tanggal_pendek(date(2025, 3, 1)) == "1 Mar 2025"
    assert sejak(moment, now=moment + timedelta(days=3)) == "3 hari yang lalu"
    assert sejak(moment, now=moment + timedelta(seconds=20)) == "baru saja"
    assert sejak(None) == "belum pernah"
    assert angka(1234567) == "1.234.567" and angka(71.55, 1) == "71,6" and angka(None) == "–"
    assert persen(0.953, 1) == "95,3%" and persen(None) == "–"


def test_numbers_without_babel_read_as_babel_writes_them() -> None:
    """`angka` formats ints and finite floats itself (the national overview formats
    hundreds of them); Babel gives the same text, halves rounded to even included."""
    import random

    from babel.numbers import format_decimal

    from aggregator.web.formatting import LOCALE

    rnd = random.Random(5)
    values = [0.0, 0.5, 1.5, 2.5, 2.675, 0.125, 71.55, 99.95, 1 / 3, -71.45, 1e16, 123456.785]
    values += [rnd.uniform(-1e6, 1e6) for _ in range(3_000)]
    values += [rnd.randint(0, 10**7) / rnd.choice([2, 8, 10, 100, 1000]) for _ in range(3_000)]
    for value in values:
        for digits in (0, 1, 2):
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            assert angka(value, digits) == format_decimal(value, format=pattern, locale=LOCALE)
    assert angka(float("nan"), 1) == format_decimal(float("nan"), format="#,##0.0", locale=LOCALE)


def test_charts_are_accessible_wellformed_svg_with_escaped_labels() -> None:
    days = [date(2025, 1, d) for d in range(1, 8)]
    hostile = 'Desa <b>"X"</b> & Y'
    charts = [
        line_chart(
            "c1",
            [Series(hostile, [(d, None if i == 3 else float(i)) for i, d in enumerate(days)])],
            title=hostile,
            desc="uji",
        ),
        bar_chart("c2", [(d, None if i == 0 else i / 7) for i, d in enumerate(days)], title="t",
                  desc="d"),
        status_strip("c3", [(d, s) for d, s in zip(days, ["active"] * 4 + ["unreachable"] * 3,
                                                       strict=True)], title="t", desc="d"),
        sparkline([1.0, 3.0, 2.0], label=hostile),
    ]  # fmt: skip
    ns = "{http://www.w3.org/2000/svg}"
    for svg in charts:
        root = ET.fromstring(str(svg))  # well-formed, so the hostile label was escaped
        assert root.tag == f"{ns}svg" and root.get("role") == "img"
        assert "style=" not in str(svg)  # presentation attributes only: CSP needs no inline
    line = ET.fromstring(str(charts[0]))
    assert line.findtext(f"{ns}title") == hostile
    assert len(line.findall(f"{ns}path")) == 1 and len(line.findall(f"{ns}circle")) == 6
    assert "M" in line.find(f"{ns}path").get("d", "")[1:]  # type: ignore[union-attr]  # gap
    strip = ET.fromstring(str(charts[2]))
    legend = [t.text for t in strip.findall(f"{ns}text")]
    assert "Aktif" in legend and "Tidak terjangkau" in legend
    tips = [t.text for t in strip.iter(f"{ns}title")]
    assert "7 Jan 2025: Tidak terjangkau" in tips


# --- over the polled fleet ------------------------------------------------------------------


def test_overview_context_counts_trend_and_attention(polled: Polled) -> None:
    store, behaviours = polled
    now = datetime.now(UTC)
    ctx = overview_context(store, now, None)
    villages = store.list_villages()
    assert ctx["total"] == len(villages) == 12
    for status in ("active", "unreachable", "inactive", "no_site"):
        assert ctx["totals"][status] == sum(v["status"] == status for v in villages)
    assert ctx["ready"] == sum(k["ready"] for k in ctx["kecamatan"]) >= 1
    # The week of daily scoring in the fixture, after days reconstructed by the first poll.
    measured = [h for h in ctx["history"] if not h["reconstructed"]]
    assert len(measured) == 7 and measured == ctx["history"][-7:]
    assert len(ctx["history"]) == 90 and "direkonstruksi" in ctx["trend_chart"]
    assert ctx["history"][-1]["counts"]["active"] == ctx["totals"]["active"]
    assert 'role="img"' in ctx["trend_chart"] and "Tren desa aktif" in ctx["trend_chart"]
    attention = ctx["attention"]
    statuses = [a["status"] for a in attention]
    assert statuses == sorted(statuses, key=ATTENTION_STATUSES.index)  # worst kind first
    assert set(statuses) == {"unreachable", "inactive", "low_activity"}
    assert {a["code"] for a in attention} == {
        c for c, b in behaviours.items() if b in ("down_500", "hang", "unresolvable", "quiet",
                                               "abandoned")
    }  # fmt: skip
    assert all(a["reason"] for a in attention) and [a["rank"] for a in attention] == list(
        range(1, len(attention) + 1)
    )
    dns = next(a for a in attention if a["code"] == by_behaviour(polled, "unresolvable"))
    assert "DNS" in dns["reason"] and "3 kali" in dns["reason"]
    one = attention[0]["kecamatan_code"]
    only = overview_context(store, now, one)
    assert only["chosen"] == one and {a["kecamatan_code"] for a in only["attention"]} == {one}
    assert overview_context(store, now, "99.99")["chosen"] is None  # unknown: all


def test_overview_page_shows_what_the_context_holds(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    ctx = overview_context(store, datetime.now(UTC), None)
    tree = html(client.get("/"))
    assert "Ringkasan Sistem Informasi Desa" in tree.css_first("h1").text()
    assert attrs(tree, "table#kecamatan tbody tr", "data-kecamatan") == [
        k["code"] for k in ctx["kecamatan"]
    ]
    assert len(tree.css("table#kecamatan [data-ready='1']")) == ctx["ready"]
    assert attrs(tree, "table#attention tbody tr", "data-village") == [
        a["code"] for a in ctx["attention"]
    ]
    assert texts(tree, "table#attention tbody td.small") == [a["reason"] for a in ctx["attention"]]
    svg = tree.css_first("figure.chart-box svg")
    assert svg is not None and svg.attributes["role"] == "img"
    # Filter by kecamatan through the form's GET.
    kec = ctx["attention"][0]["kecamatan_code"]
    filtered = html(client.get("/", params={"kecamatan": kec}))
    rows = filtered.css("table#attention tbody tr")
    assert rows and all(
        r.attributes["data-village"].startswith(kec + ".")  # type: ignore[union-attr]
        for r in rows
    )
    option = filtered.css_first(f"select[name=kecamatan] option[value='{kec}']")
    assert option is not None and "selected" in option.attributes


def test_kecamatan_context_news_filters_and_paging(polled: Polled) -> None:
    store, _ = polled
    now = datetime.now(UTC)
    active = news_village(store)
    kec = store.kecamatan(active["kecamatan_code"])
    assert kec is not None
    ctx = kecamatan_context(store, kec, now)
    assert [v["code"] for v in ctx["villages"]] == [active["code"]]
    row = ctx["villages"][0]
    assert row["uptime"] == 1.0 and row["checks_7d"] >= 1 and row["posts_30d"] > 0
    assert ctx["news_total"] == active["news_count"] and len(ctx["news"]) == 20
    assert ctx["pages"] == -(-active["news_count"] // 20) and ctx["ready"]
    assert ctx["news"][0]["title"] == STORED_TITLE
    page2 = kecamatan_context(store, kec, now, page=2)
    assert page2["first_shown"] == 21
    assert {n["url"] for n in page2["news"]}.isdisjoint({n["url"] for n in ctx["news"]})
    last = kecamatan_context(store, kec, now, page=999)
    assert last["page"] == last["pages"]  # clamped, not an empty page
    eco = kecamatan_context(store, kec, now, filters=NewsFilter(category="Ekonomi"))
    assert [n["title"] for n in eco["news"]] == [FORMULA_TITLE]
    assert ("Ekonomi", 1) in ctx["categories"]
    found = kecamatan_context(store, kec, now, filters=NewsFilter(q="musdes"))
    assert found["news"] and all(
        "musdes" in (n["title"] + n["summary"]).lower() for n in found["news"]
    )
    none = kecamatan_context(store, kec, now, filters=NewsFilter(village="33.03.99.9999"))
    assert none["news_total"] == 0 and none["news"] == []
    assert [r["code"] for r in ctx["services"]] == [active["code"]]
    assert list(ctx["services"][0]["services"]) == list(ctx["service_kinds"])


def test_sorting_puts_unknown_values_last(polled: Polled) -> None:
    store, _ = polled
    rows = [{**v, "uptime": None} for v in store.list_villages()]
    by_score = sort_villages(rows, "skor", "turun")
    scores = [r["score"] for r in by_score]
    assert scores == sorted(scores, reverse=True)
    by_post = sort_villages(rows, "berita", "turun")
    posts = [r["last_post_at"] for r in by_post]
    known = [p for p in posts if p]
    assert known == sorted(known, reverse=True) and posts[len(known) :] == [None] * (
        len(posts) - len(known)
    )
    by_status = [r["status"] for r in sort_villages(rows, "status", "naik")]
    assert by_status.index("unreachable") < by_status.index("inactive") < by_status.index(
        "active"
    ) < by_status.index("no_site")  # fmt: skip


def test_kecamatan_page_renders_villages_services_and_escaped_news(
    client: httpx.Client,
    polled: Polled,
) -> None:
    store, _ = polled
    active = news_village(store)
    path = f"/kecamatan/{active['kecamatan_code']}"
    page = client.get(path)
    tree = html(page)
    assert attrs(tree, "table#villages tbody tr", "data-village") == [active["code"]]
    headers = texts(tree, "table#villages thead th")
    for label in ("Status", "Skor", "Berita terakhir", "Berita 30 hari", "Ketersediaan 7 hari",
                  "Temuan terbuka"):  # fmt: skip
        assert any(h.startswith(label) for h in headers), (label, headers)
    assert tree.css_first("table#villages thead th[aria-sort]") is not None
    service_headers = texts(tree, "table#services thead th")[1:]
    assert service_headers == ["Lapak", "PPID", "Pengaduan", "Pembangunan", "Statistik",
                               "Pemerintah/kehadiran", "Layanan mandiri"]  # fmt: skip
    assert (
        f"Menampilkan 1–20 dari {active['news_count']} berita"
        in tree.css_first("#news-count").text()
    )
    assert texts(tree, "ul.news .title")[0] == STORED_TITLE
    assert "Rapat &amp; &#34;Musdes&#34; skor &lt; 0,8" in page.text
    assert "<script" not in page.text and " style=" not in page.text
    assert LONG_DATE.search(tree.css_first("ul.news time").text())
    nxt = tree.css_first("nav.pager a[rel=next]")
    assert nxt is not None
    page2 = html(client.get(str(nxt.attributes["href"])))
    assert (
        f"Menampilkan 21–40 dari {active['news_count']} berita"
        in page2.css_first("#news-count").text()
    )
    searched = html(client.get(path, params={"q": "skor < 0,8"}))
    assert texts(searched, "ul.news .title") == [STORED_TITLE]
    assert searched.css_first("input[name=q]").attributes["value"] == "skor < 0,8"
    cat = html(client.get(path, params={"kategori": "Ekonomi", "desa": active["code"]}))
    assert texts(cat, "ul.news .title") == [FORMULA_TITLE]
    exports = attrs(cat, "p.actions[data-exports$='/berita'] a", "href")
    assert any(h.endswith(".csv?desa=" + active["code"] + "&kategori=Ekonomi") for h in exports)
    printable = html(client.get(path, params={"cetak": "1"}))
    assert printable.css_first("body").attributes["class"] == "print-view"
    assert client.get("/kecamatan/99.99.99").status_code == 404
    assert "Kecamatan tidak ditemukan" in client.get("/kecamatan/99.99.99").text


def test_village_page_score_history_checks(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    now = datetime.now(UTC)
    code = by_behaviour(polled, "active")
    ctx = village_context(store, code, now)
    assert ctx is not None
    assert set(ctx["charts"]) == {"status", "uptime", "score"}
    measured = [h for h in ctx["history"] if not h["reconstructed"]]
    assert len(measured) == 7 and measured == ctx["history"][-7:]
    assert len(ctx["history"]) == 90 and "direkonstruksi" in ctx["charts"]["status"]
    assert ctx["uptime"] == 1.0 and ctx["uptime_checks"] >= 1
    assert [s["kind"] for s in ctx["services"]][:7] == [
        "lapak", "ppid", "pengaduan", "pembangunan", "statistik", "pemerintah", "layanan_mandiri",
    ]  # fmt: skip
    tree = html(client.get(f"/desa/{code}"))
    comps = tree.css("table#components tbody tr")
    assert [c.attributes["data-component"] for c in comps] == [
        "freshness", "cadence", "availability", "services", "engagement",
    ]  # fmt: skip
    detail = store.village_detail(code)
    assert detail is not None
    reasons = [c.css("td")[-1].text(strip=True) for c in comps]
    assert reasons == [c["reason"] for c in detail["score_components"]]
    assert tree.css_first("[data-score]").text(strip=True) == angka(detail["score"], 1)
    titles = [n.text() for n in tree.css("figure.chart-box svg > title")]
    assert any("Riwayat status" in t for t in titles) and any("Ketersediaan" in t for t in titles)
    rows = [r.css("td")[-1].text() for r in tree.css("table#history tbody tr")]
    assert rows == ["terukur"] * 7 + ["rekonstruksi"] * 83  # newest first
    assert len(tree.css("ul.news li")) == 10
    assert LONG_DATE.search(tree.css_first("table#identity").text())

    down = by_behaviour(polled, "down_500")
    dtree = html(client.get(f"/desa/{down}"))
    phases = attrs(dtree, "table#checks tbody tr[data-ok=no] td[data-phase]", "data-phase")
    assert phases and set(phases) == {"http"}
    assert "HTTP 500" in dtree.css_first("table#checks").text()
    assert "Gagal sejak" in dtree.css_first("table#identity").text()
    assert client.get("/desa/99.99.99.9999").status_code == 404


def test_inactive_report_threshold_and_print_view(client: httpx.Client, polled: Polled) -> None:
    store, behaviours = polled
    now = datetime.now(UTC)
    abandoned = by_behaviour(polled, "abandoned")
    down = {c for c, b in behaviours.items() if b in ("down_500", "hang", "unresolvable")}
    month = report_context(store, now, 30)
    assert [r["code"] for r in month["rows"]] == [abandoned]  # failing only since today
    assert month["rows"][0]["days"] > 90
    today = report_context(store, now, 0)
    assert {r["code"] for r in today["rows"]} == down | {abandoned}
    kecs = [r["kecamatan_code"] for r in today["rows"]]
    assert kecs == sorted(kecs)
    far = report_context(store, now, 3650)
    assert far["rows"] == []
    tree = html(client.get("/laporan/tidak-aktif", params={"hari": "0"}))
    assert attrs(tree, "table#report tbody tr", "data-village") == [
        r["code"] for r in today["rows"]
    ]
    assert tree.css_first("#report-total").text() == str(len(today["rows"]))
    default = html(client.get("/laporan/tidak-aktif"))
    assert default.css_first("input[name=hari]").attributes["value"] == "30"
    assert attrs(default, "table#report tbody tr", "data-village") == [abandoned]
    junk = html(client.get("/laporan/tidak-aktif", params={"hari": "abc"}))
    assert junk.css_first("[data-days]").attributes["data-days"] == "30"
    printable = html(client.get("/laporan/tidak-aktif", params={"cetak": "1"}))
    assert printable.css_first("body").attributes["class"] == "print-view"
    assert printable.css_first(".print-only") is not None


def test_layout_is_accessible_and_self_contained(client: httpx.Client, polled: Polled) -> None:
    code = by_behaviour(polled, "active")
    kec = code.rsplit(".", 1)[0]
    css = client.get("/static/sipande.css")
    assert css.status_code == 200 and "@media print" in css.text and "max-width: 700px" in css.text
    for path in ("/", f"/kecamatan/{kec}", f"/desa/{code}", "/laporan/tidak-aktif", "/berita"):
        page = client.get(path)
        csp = page.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp and "default-src 'none'" in csp
        tree = html(page)
        assert tree.css_first("html").attributes["lang"] == "id"
        skip = tree.css_first("a.skip")
        assert skip is not None and skip.attributes["href"] == "#konten"
        assert tree.css_first("main#konten") is not None
        assert tree.css_first("meta[name=viewport]") is not None
        assert not tree.css("script") and " style=" not in page.text
        for th in tree.css("th"):  # every header cell says what it heads
            assert th.attributes.get("scope") in ("col", "row"), (path, th.html)
        for control in tree.css("form input:not([type=hidden]), form select"):
            assert control.parent is not None and control.parent.tag == "label", (
                path,
                control.html,
            )
        for link in tree.css("link[href], img[src]"):
            ref = str(link.attributes.get("href") or link.attributes.get("src"))
            assert ref.startswith(("/", "data:")), (path, ref)  # nothing from the internet
    missing = client.get("/halaman-yang-tidak-ada")
    assert missing.status_code == 404 and "Halaman tidak ditemukan" in missing.text
    api = client.get("/api/tidak-ada")
    assert api.status_code == 404 and api.json()["error"]


# --- a hand-made kecamatan: compromised, services, metrics ----------------------------------

CONFIG = """\
kabupaten: {code: "33.03", name: Purbalingga}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {code: "33.03.01.2001", name: Kedungbenda, url: "http://kedungbenda.example/"}
      - {code: "33.03.01.2002", name: Bokol, url: "http://bokol.example/"}
      - {code: "33.03.01.2003", name: Pegandekan, url: "http://pegandekan.example/"}
      - {code: "33.03.01.2004", name: Karangtengah, url: ""}
"""
EVIDENCE = '<a href="https://slot.example">SLOT GACOR</a><script>alert(1)</script>'


def _poll(store: Store, code: str, at: datetime, items: list[ParsedItem], visitors: float) -> None:
    village = store.due_villages(at, codes=[code], all_villages=True)[0]
    services = (
        ServiceObservation("ppid", True, 12, at - timedelta(days=3), "javascript:alert(1)"),
        ServiceObservation("lapak", False),
    )
    harvest = Harvest("opensid", "24.10", items=tuple(items), services=services,
                      metrics={"visitors_total": visitors})  # fmt: skip
    outcome = PollOutcome(code, at, 120, True, status_code=200, harvest=harvest)
    store.record_poll(outcome, decide(village, outcome, store.settings))


@pytest.fixture
def kemangkon(tmp_path: Path) -> Iterator[Store]:
    now = datetime.now(UTC)
    config = parse_config(CONFIG)
    store = Store(f"sqlite:///{tmp_path}/k.db", config.settings)
    store.migrate()
    store.sync_config(config, now - timedelta(days=5))
    for day in range(5, -1, -1):
        at = now - timedelta(days=day, minutes=1)
        url = "http://kedungbenda.example/artikel/1"
        item = ParsedItem("Kerja bakti", url, url, now - timedelta(days=2), content_hash="1" * 64)
        _poll(store, "33.03.01.2001", at, [item], 1000 + 50 * (5 - day))
        url2 = "http://bokol.example/artikel/9"
        old = ParsedItem("Judul lama", url2, url2, now - timedelta(days=20), content_hash="2" * 64)
        _poll(store, "33.03.01.2002", at, [old], 10)
        _poll(store, "33.03.01.2003", at, [], 5)
        store.rollup_checks(at)
        store.score_all(at)
    with Session(store.engine) as s:  # integrity findings come from another module's writer
        s.add(Finding(village_code="33.03.01.2002", kind="judi_online", url="javascript:alert(2)",
                      evidence=EVIDENCE, first_seen=now, last_seen=now))  # fmt: skip
        s.commit()
    store.refresh_statuses(now)
    store.score_all(now)
    yield store
    store.close()


def test_compromised_village_first_with_penalty_and_escaped_evidence(kemangkon: Store) -> None:
    now = datetime.now(UTC)
    statuses = {v["code"]: v["status"] for v in kemangkon.list_villages()}
    assert statuses == {"33.03.01.2001": "active", "33.03.01.2002": "compromised",
                        "33.03.01.2003": "inactive", "33.03.01.2004": "no_site"}  # fmt: skip
    attention = overview_context(kemangkon, now, None)["attention"]
    assert [a["code"] for a in attention] == ["33.03.01.2002", "33.03.01.2003"]
    assert "1 temuan integritas" in attention[0]["reason"]
    assert attention[1]["reason"] == "Belum pernah ada berita"
    report = report_context(kemangkon, now, 3650)
    assert [r["code"] for r in report["rows"]] == ["33.03.01.2003"]  # never posted: always
    with LiveServer(create_app(kemangkon.settings, store=kemangkon, run_scheduler=False)) as srv:
        page = httpx.get(f"{srv.url}/desa/33.03.01.2002")
        tree = html(page)
        assert "disusupi" in tree.css_first("#penalty").text()
        finding = tree.css_first("table#findings tbody tr")
        assert finding.attributes["data-finding"] == "judi_online"
        assert "Judi online" in finding.text()
        assert tree.css_first("pre.evidence").text() == EVIDENCE  # shown as text...
        assert "<script>alert(1)" not in page.text  # ...never as markup
        assert "javascript:" not in " ".join(attrs(tree, "a", "href"))
        services = {r.attributes["data-service"]: r.text() for r in tree.css("table#services tr")
                    if r.attributes.get("data-service")}  # fmt: skip
        assert "✓ ada" in services["ppid"] and "12" in services["ppid"]
        assert "✗ tidak ada" in services["lapak"] and "belum terbaca" in services["statistik"]
        active = html(httpx.get(f"{srv.url}/desa/33.03.01.2001"))
        spark = active.css_first("table#metrics tr[data-metric=visitors_total] svg")
        assert spark is not None and "1.000 menjadi 1.250" in str(spark.attributes["aria-label"])
        assert "+250" in active.css_first("table#metrics tr[data-metric=visitors_total]").text()
        matrix = html(httpx.get(f"{srv.url}/kecamatan/33.03.01", params={"urut": "status"}))
        order = attrs(matrix, "table#villages tbody tr", "data-village")
        assert order == ["33.03.01.2002", "33.03.01.2003", "33.03.01.2001", "33.03.01.2004"]
        cells = {
            (c.parent.attributes["data-village"], c.attributes["data-service"]):  # type: ignore[union-attr]
            c.attributes["data-available"]
            for c in matrix.css("table#services td[data-service]")
        }  # fmt: skip
        assert cells[("33.03.01.2001", "ppid")] == "yes"
        assert cells[("33.03.01.2001", "lapak")] == "no"
        assert cells[("33.03.01.2004", "ppid")] == "unknown"
        flipped = html(
            httpx.get(f"{srv.url}/kecamatan/33.03.01", params={"urut": "skor", "arah": "naik"})
        )
        scores = [kemangkon.village_detail(c)["score"] for c in  # type: ignore[index]
                  attrs(flipped, "table#villages tbody tr", "data-village")]  # fmt: skip
        assert scores == sorted(scores)
        th = flipped.css_first("table#villages th[aria-sort]")
        assert th is not None and th.attributes["aria-sort"] == "ascending"
        # The village page's own lists export too.
        base = f"{srv.url}/desa/33.03.01.2001"
        services_csv = csv_rows(httpx.get(f"{base}/layanan.csv"))
        assert [r["Layanan"] for r in services_csv][:2] == ["Lapak", "PPID"]
        assert services_csv[1]["Keadaan"] == "ada, berisi" and services_csv[1]["Jumlah"] == "12"
        assert services_csv[0]["Keadaan"] == "tidak ada"
        assert services_csv[2]["Keadaan"] == "belum terbaca"
        score_csv = csv_rows(httpx.get(f"{base}/skor.csv"))
        assert [r["Komponen"] for r in score_csv][:2] == ["Kebaruan", "Keteraturan"]
        assert score_csv[-1]["Komponen"] == "Skor" and score_csv[-1]["Poin"]
        hijacked = csv_rows(httpx.get(f"{srv.url}/desa/33.03.01.2002/skor.csv"))
        assert any(r["Komponen"] == "Penalti" for r in hijacked)
        metrics_csv = csv_rows(httpx.get(f"{base}/metrik.csv"))
        assert [r["Nilai"] for r in metrics_csv] == [str(1000.0 + 50 * d) for d in range(6)]
        evidence = csv_rows(httpx.get(f"{srv.url}/desa/33.03.01.2002/temuan.csv"))
        assert evidence[0]["Bukti"] == EVIDENCE and evidence[0]["Jenis"] == "Judi online"
