"""The region map on the overview and kecamatan pages (served over loopback from a polled
store), and which level the overview draws at national scale."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from aggregator.decide.status import STATUS_LABELS
from aggregator.geo.boundaries import Boundaries
from aggregator.geo.sqlfile import Region
from aggregator.store import Store
from aggregator.web import create_app
from aggregator.web.maps import MAX_AREAS, choose_map
from tests.conftest import LiveServer
from tests.test_web import polled_store

Polled = tuple[Store, dict[str, str]]


@pytest.fixture(scope="module")
def polled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Polled:
    return polled_store(request, tmp_path_factory)


@pytest.fixture(scope="module")
def client(polled: Polled) -> Iterator[httpx.Client]:
    store, _ = polled
    app = create_app(store.settings, store=store, run_scheduler=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def map_links(html: str) -> dict[str, Any]:
    """href -> (aria-label, class) of every region link inside the map."""
    tree = HTMLParser(html)
    svg = tree.css_first("svg.map")
    assert svg is not None, "no map on the page"
    return {
        a.attributes["href"]: (a.attributes.get("aria-label"), a.attributes.get("class"))
        for a in svg.css("a")
    }


def test_overview_map_links_every_village_coloured_by_status(
    client: httpx.Client, polled: Polled
) -> None:
    store, _ = polled
    villages = store.list_villages()
    response = client.get("/")
    assert response.status_code == 200
    links = map_links(response.text)
    assert set(links) == {f"/desa/{v['code']}" for v in villages}  # shipped boundaries
    for v in villages:
        label, css = links[f"/desa/{v['code']}"]
        assert label == f"{v['name']}: {STATUS_LABELS[v['status']]}"
        assert css == f"m-{v['status']}"
    tree = HTMLParser(response.text)
    legend = {li.text(strip=True) for li in tree.css(".map-legend li")}
    unreachable = sum(v["status"] == "unreachable" for v in villages)
    assert unreachable and f"Tidak terjangkau({unreachable})" in legend
    rows = tree.css("table#peta-tabel tbody tr")
    assert sorted(r.attributes["data-code"] or "" for r in rows) == sorted(
        v["code"] for v in villages
    )
    current = tree.css_first(".map-modes a[aria-current]")
    assert current is not None and current.text() == "Status"
    # The kabupaten's other villages (not configured) are drawn behind, without links.
    behind = tree.css_first("svg.map path.map-bg")
    assert behind is not None and behind.attributes["aria-hidden"] == "true"
    assert behind.parent is not None and behind.parent.tag == "svg"
    # The strict CSP stays as it was, and the map needs no inline style or script.
    assert "style-src 'self'" in response.headers["content-security-policy"]
    assert "style=" not in response.text and "<script" not in response.text


def test_switching_the_map_to_a_yardstick(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    villages = {f"/desa/{v['code']}": v for v in store.list_villages()}
    html = client.get("/", params={"peta": "skor"}).text
    tree = HTMLParser(html)
    current = tree.css_first(".map-modes a[aria-current]")
    assert current is not None and current.text() == "Skor aktivitas SID"
    for href, (label, css) in map_links(html).items():
        value = villages[href]["score"]
        if value is None:
            assert css == "m-none" and label.endswith("belum ada nilai")
        else:
            assert css == f"m-b{min(4, int(value // 20))}"
            assert "Skor aktivitas SID" in label
    assert any(v["score"] is not None for v in villages.values())
    # No KIP run yet: every village says so, in the colour for "no value".
    kip = map_links(client.get("/", params={"peta": "kip"}).text)
    assert {css for _, css in kip.values()} == {"m-none"}
    # Unknown modes fall back to status rather than failing.
    assert "m-none" not in str(map_links(client.get("/?peta=<x>").text))


def test_kecamatan_page_map_names_its_villages(client: httpx.Client, polled: Polled) -> None:
    store, _ = polled
    kec_code = store.list_villages()[0]["kecamatan_code"]
    villages = store.list_villages(kecamatan=kec_code)
    html = client.get(f"/kecamatan/{kec_code}", params={"peta": "skor"}).text
    links = map_links(html)
    assert set(links) == {f"/desa/{v['code']}" for v in villages}
    names = [t.text() for t in HTMLParser(html).css("svg.map .map-labels text")]
    assert sorted(names) == sorted(v["name"] for v in villages)
    assert client.get(f"/kecamatan/{kec_code}?cetak=1").text.count('class="map"') == 1


def square(code: str, x: float, name: str = "") -> Region:
    ring = ((x, -7.0), (x + 0.01, -7.0), (x + 0.01, -7.01), (x, -7.01))
    return Region(code, name, (ring,))


def summary_rows(n_kec: int, per: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "code": f"{11 + k // 400:02d}.{k // 14 % 28 + 1:02d}.{k % 14 + 1:02d}",
            "name": f"Kec {k}",
            "villages": per,
            "with_site": per,
            "counts": {"active": per // 2, "inactive": per - per // 2},
            "mean_score": 55.0,
            "mean_kip": None,
            "mean_security": 81.0,
        }
        for k in range(n_kec)
    ]


def test_national_scale_maps_kecamatan_then_kabupaten_or_says_why_not() -> None:
    def no_villages() -> list[dict[str, Any]]:
        raise AssertionError("villages must not be loaded for a kecamatan or kabupaten map")

    rows = summary_rows(200)  # 2,400 villages: too many to draw one by one
    assert sum(r["villages"] for r in rows) > MAX_AREAS
    kecamatan = Boundaries()
    kecamatan.add({r["code"]: square(r["code"], i * 0.01) for i, r in enumerate(rows[:150])})
    drawn = choose_map(kecamatan, "status", rows, no_villages)
    assert drawn["level"] == "kecamatan"
    assert len(drawn["missing"]) == 50
    assert 'href="/kecamatan/11.01.01"' in str(drawn["svg"])
    assert "50% desa bersitus aktif" in str(drawn["svg"])
    assert drawn["legend"][2] == {"css": "m-b2", "label": "40–60% desa bersitus yang aktif",
                                  "count": 150}  # fmt: skip

    many = summary_rows(7000)  # national scale: 7,000 kecamatan
    kabupaten = Boundaries()
    kabupaten.add({"11.01": square("11.01", 0, "Simeulue"), "11.02": square("11.02", 1)})
    drawn = choose_map(kabupaten, "keamanan", many, no_villages)
    assert drawn["level"] == "kabupaten"
    assert 'aria-label="Simeulue: Keamanan Digital rata-rata 81' in str(drawn["svg"])
    assert 'href="/?cari=11.01#per-kecamatan"' in str(drawn["svg"])

    nothing = choose_map(Boundaries(), "status", many, no_villages)
    assert nothing["svg"] is None
    assert "belum ada batas wilayah untuk 84.000 desa" in nothing["note"]
