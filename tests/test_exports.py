"""Exports and feeds: CSV and .xlsx open with the csv module and openpyxl and hold the rows the
page shows; spreadsheet formulas are defused; the Atom feed and the OPML parse as XML."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from openpyxl import load_workbook
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from aggregator.store import Store
from aggregator.web import create_app
from aggregator.web.exports import FORMULA_TRIGGERS, Column, Table, csv_value, defuse, to_xlsx
from aggregator.web.feeds import atom_feed
from tests.conftest import LiveServer
from tests.test_web import FORMULA_TITLE, STORED_TITLE, news_village, polled_store

Polled = tuple[Store, dict[str, str]]
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def polled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Polled:
    return polled_store(request, tmp_path_factory)


@pytest.fixture(scope="module")
def client(polled: Polled) -> Iterator[httpx.Client]:
    store, _ = polled
    app = create_app(store.settings, store=store, run_scheduler=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 names
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(
    response: httpx.Response,
) -> tuple[list[str], list[dict[str, object]], dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    notes = {str(r[0]): str(r[1]) for r in wb["Info"].iter_rows(values_only=True)}
    for row in ws.iter_rows(min_row=2):  # no cell may be a formula, whatever the village wrote
        assert all(c.data_type != "f" for c in row)
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]], notes


def shown(page: httpx.Response, selector: str, attribute: str = "data-village") -> list[str]:
    tree = HTMLParser(page.text)
    return [str(n.attributes[attribute]) for n in tree.css(selector)]


def test_defuse_every_formula_trigger() -> None:
    for trigger in FORMULA_TRIGGERS:
        assert defuse(trigger + "1+1") == "'" + trigger + "1+1"
        assert csv_value(trigger + "x") == "'" + trigger + "x"
    assert defuse("Rapat desa") == "Rapat desa" and csv_value(-5) == "-5"
    assert csv_value(True) == "ya" and csv_value(None) == ""
    assert csv_value(datetime(2025, 1, 23, 3, 12, tzinfo=UTC)) == "2025-01-23 10:12"  # WIB


def test_xlsx_keeps_formulas_as_text_and_drops_illegal_characters() -> None:
    table = Table(
        "Uji: judul yang sangat panjang melebihi batas Excel",
        [Column("Judul", lambda r: r["t"]), Column("Waktu", lambda r: r["w"])],
        [{"t": "=1+2", "w": datetime(2025, 1, 23, 3, 12, tzinfo=UTC)}, {"t": "a\x0bb", "w": None}],
    )
    wb = load_workbook(io.BytesIO(to_xlsx(table)))
    ws = wb.worksheets[0]
    assert len(ws.title) <= 31
    assert ws["A2"].value == "=1+2" and ws["A2"].data_type == "s"
    assert ws["B2"].value == datetime(2025, 1, 23, 10, 12)  # WIB wall time
    assert ws["A3"].value == "ab"


def test_kecamatan_villages_export_matches_the_table(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    for village in store.list_villages():
        kec = village["kecamatan_code"]
        page = client.get(f"/kecamatan/{kec}", params={"urut": "skor", "arah": "turun"})
        on_screen = shown(page, "table#villages tbody tr")
        rows = read_csv(client.get(f"/kecamatan/{kec}/desa.csv?urut=skor&arah=turun"))
        assert [r["Kode desa"] for r in rows] == on_screen
        header, xrows, notes = read_xlsx(client.get(f"/kecamatan/{kec}/desa.xlsx"))
        assert header[:4] == ["Kode desa", "Desa/kelurahan", "Jenis", "Status"]
        assert [r["Kode desa"] for r in xrows] == on_screen
        assert kec in notes["Kecamatan"]
        if village["last_post_at"]:
            assert isinstance(xrows[0]["Berita terakhir (WIB)"], datetime)
            assert rows[0]["Status"] == "Aktif" or rows[0]["Status"]


def test_news_exports_hold_every_row_of_the_filtered_page_and_defuse_formulas(
    client: httpx.Client, polled: Polled
) -> None:
    store, _ = polled
    active = news_village(store)
    base = f"/kecamatan/{active['kecamatan_code']}"
    page = client.get(base, params={"halaman": "2"})
    titles_on_screen = [n.text(strip=True) for n in HTMLParser(page.text).css("ul.news .title")]
    assert len(titles_on_screen) == 20
    rows = read_csv(client.get(f"{base}/berita.csv"))
    assert len(rows) == active["news_count"]
    assert [r["Judul"] for r in rows][20:40] == titles_on_screen  # same order as the pages
    formula = next(r for r in rows if "HYPERLINK" in r["Judul"])
    assert formula["Judul"] == "'" + FORMULA_TITLE  # defused in CSV
    _, xrows, _ = read_xlsx(client.get(f"{base}/berita.xlsx"))
    assert FORMULA_TITLE in [r["Judul"] for r in xrows]  # a text cell in xlsx, never a formula
    found = read_csv(client.get(f"{base}/berita.csv", params={"q": "skor < 0,8"}))
    assert [r["Judul"] for r in found] == [STORED_TITLE]
    eco = read_csv(client.get(f"{base}/berita.csv", params={"kategori": "Ekonomi"}))
    assert [r["Kategori"] for r in eco] == ["Ekonomi"]
    everything = read_csv(client.get("/berita.csv"))
    assert len(everything) == sum(v["news_count"] for v in store.list_villages())
    first_page = HTMLParser(client.get("/berita").text).css("ul.news .title")
    assert [r["Judul"].lstrip("'") for r in everything[:30]] == [
        n.text(strip=True) for n in first_page
    ]


def test_overview_and_report_exports_match_the_pages(client: httpx.Client, polled: Polled) -> None:
    home = client.get("/")
    summary = read_csv(client.get("/ringkasan.csv"))
    assert [r["Kode kecamatan"] for r in summary] == shown(home, "table#kecamatan tbody tr",
                                                          "data-kecamatan")  # fmt: skip
    assert {r["Siap Sipande"] for r in summary} <= {"ya", "tidak"}
    _, xsummary, _ = read_xlsx(client.get("/ringkasan.xlsx"))
    assert [r["Kode kecamatan"] for r in xsummary] == [r["Kode kecamatan"] for r in summary]
    attention = read_csv(client.get("/perhatian.csv"))
    assert [r["Kode desa"] for r in attention] == shown(home, "table#attention tbody tr")
    kec = attention[0]["Kode desa"].rsplit(".", 1)[0]
    filtered = read_csv(client.get("/perhatian.csv", params={"kecamatan": kec}))
    assert filtered and all(r["Kode desa"].startswith(kec) for r in filtered)
    report_page = client.get("/laporan/tidak-aktif", params={"hari": "0"})
    report = read_csv(client.get("/laporan/tidak-aktif.csv", params={"hari": "0"}))
    assert [r["Kode desa"] for r in report] == shown(report_page, "table#report tbody tr")
    _, xreport, notes = read_xlsx(client.get("/laporan/tidak-aktif.xlsx?hari=0"))
    assert [r["Kode desa"] for r in xreport] == [r["Kode desa"] for r in report]
    assert "0 hari" in notes["Laporan"]
    assert client.get("/laporan/tidak-aktif.pdf").status_code == 404


def test_village_exports(client: httpx.Client, polled: Polled) -> None:
    store, behaviours = polled
    down = next(c for c, b in behaviours.items() if b == "down_500")
    checks = read_csv(client.get(f"/desa/{down}/pemeriksaan.csv"))
    page = client.get(f"/desa/{down}")
    assert len(checks) == len(HTMLParser(page.text).css("table#checks tbody tr"))
    assert {r["Hasil"] for r in checks} == {"gagal"} and {r["Kode HTTP"] for r in checks} == {"500"}
    history = read_csv(client.get(f"/desa/{down}/riwayat.csv"))
    assert len(history) == 7 and history[-1]["Status"] == "Tidak terjangkau"
    findings = read_csv(client.get(f"/desa/{down}/temuan.csv"))
    assert findings == []  # header only
    active = next(c for c, b in behaviours.items() if b == "active")
    news = read_csv(client.get(f"/desa/{active}/berita.csv"))
    detail = store.village_detail(active)
    assert detail is not None and len(news) == detail["news_count"]
    assert client.get(f"/desa/{active}/berita.json").status_code == 404


def test_atom_feed_of_a_kecamatan(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    active = news_village(store)
    kec = active["kecamatan_code"]
    response = client.get(f"/kecamatan/{kec}/feed.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert "Kecamatan" in (root.findtext(f"{ATOM}title") or "")
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href", "").endswith(
        f"/kecamatan/{kec}/feed.atom"
    )
    entries = root.findall(f"{ATOM}entry")
    expected = store.news(kecamatan=kec, limit=50)
    assert [e.findtext(f"{ATOM}title") for e in entries] == [n["title"] for n in expected]
    assert entries[0].findtext(f"{ATOM}title") == STORED_TITLE  # markup-free text, round trip
    for entry, item in zip(entries, expected, strict=True):
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href") == item["url"]
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == active["name"]
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)
    assert client.get("/kecamatan/99.99.99/feed.atom").status_code == 404
    page = HTMLParser(client.get(f"/kecamatan/{kec}").text)
    alternate = page.css_first("link[rel=alternate][type='application/atom+xml']")
    assert alternate is not None and alternate.attributes["href"] == f"/kecamatan/{kec}/feed.atom"


def test_atom_survives_characters_xml_forbids() -> None:
    item = {"village_code": "33.03.01.2001", "village_name": "Desa\x01", "title": "A\x0bB",
            "url": "javascript:alert(1)", "published_at": None, "first_seen": None,
            "category": "x\x00", "summary": "ringkas\ufffe"}  # fmt: skip
    now = datetime(2025, 1, 1, tzinfo=UTC)
    body = atom_feed(title="t", feed_id="urn:x", self_url="http://h/f", html_url="http://h/",
                     items=[item], now=now)  # fmt: skip
    entry = ET.fromstring(body).find(f"{ATOM}entry")
    assert entry is not None and entry.findtext(f"{ATOM}title") == "AB"
    assert entry.find(f"{ATOM}link") is None  # not an http(s) link: left out
    assert (entry.findtext(f"{ATOM}id") or "").startswith("tag:")


def test_opml_lists_every_known_village_feed(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    response = client.get("/opml")
    assert response.status_code == 200 and "opml" in response.headers["content-type"]
    root = ET.fromstring(response.content)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title")
    feeds = {
        o.get("xmlUrl"): (o.get("text"), o.get("htmlUrl"))
        for o in root.iter("outline")
        if o.get("type") == "rss"
    }
    with_feed = [v for v in store.list_villages() if v["feed_url"]]
    assert len(with_feed) >= 5
    assert feeds == {v["feed_url"]: (v["name"], v["url"]) for v in with_feed}
    groups = [o.get("text") for o in root.findall("body/outline")]
    assert groups and all(str(g).startswith("Kecamatan ") for g in groups)
