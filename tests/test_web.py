"""Pages and JSON API over a store filled by polling the simulated fleet."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator.cli import poll_once
from aggregator.store import Store
from aggregator.web import create_app
from fleet import Fleet
from tests.conftest import LiveServer
from tests.test_poller import _setup

VILLAGE_FIELDS = {
    "code", "name", "kecamatan_code", "url", "platform", "status", "score", "last_post_at",
    "last_checked_at", "last_check_ok", "news_count", "open_findings",
}  # fmt: skip
HOSTILE_TITLE = '<script>alert("judol")</script> Rapat & "Musdes" <b>skor < 0,8</b>'
STORED_TITLE = 'Rapat & "Musdes" skor < 0,8'  # markup dropped, text kept


FORMULA_TITLE = '=HYPERLINK("http://jahat.example","klik") Laporan BUMDes'
POLLED = pytest.StashKey[tuple[Store, dict[str, str]]]()


async def _fill(tmp: Path) -> tuple[Store, dict[str, str]]:
    async with Fleet.from_district(12, seed=3) as fleet:
        code = next(v.code for v in fleet.villages if v.behaviour == "active")
        fleet.add_article(code, HOSTILE_TITLE, fleet.now - timedelta(minutes=3))
        fleet.add_article(code, FORMULA_TITLE, fleet.now - timedelta(minutes=9), category="Ekonomi")
        config, store = _setup(fleet, tmp)
        await poll_once(config, store)
        failing = [v["code"] for v in store.list_villages() if v["last_check_ok"] is False]
        for _ in range(2):  # three failed checks in a row make a village unreachable
            await poll_once(config, store, villages=failing)
        now = datetime.now(UTC)
        # The daily scoring job, as if it had run on the past week too: history for charts.
        for days_ago in range(6, 0, -1):
            store.score_all(now - timedelta(days=days_ago))
        store.rollup_checks(now)
        store.score_all(now)
        return store, {v.code: v.behaviour for v in fleet.villages}


def polled_store(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory
) -> tuple[Store, dict[str, str]]:
    """One polled store for the whole session: the web test modules only read it, and one
    pass over the fleet (with its hanging and failing sites) takes seconds."""
    config = request.config
    if POLLED not in config.stash:
        store, behaviours = asyncio.run(_fill(factory.mktemp("web")))
        config.stash[POLLED] = (store, behaviours)
        config.add_cleanup(store.close)
    return config.stash[POLLED]


def news_village(store: Store) -> dict[str, Any]:
    """The village whose site got the hostile and the formula-like articles."""
    code = store.news(q="skor < 0,8")[0]["village_code"]
    detail = store.village_detail(code)
    assert detail is not None
    return detail


@pytest.fixture(scope="module")
def polled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Store, dict[str, str]]:
    """A store after one pass over a 12-village fleet (one article with hostile markup, one
    starting like a spreadsheet formula) and a week of daily scoring."""
    return polled_store(request, tmp_path_factory)


@pytest.fixture(scope="module")
def client(polled: tuple[Store, dict[str, str]]) -> Iterator[httpx.Client]:
    """A real HTTP client against the app served by uvicorn on loopback."""
    store, _ = polled
    app = create_app(store.settings, store=store, run_scheduler=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def test_api_villages_fields_and_filters(
    client: httpx.Client, polled: tuple[Store, dict[str, str]]
) -> None:
    _, behaviours = polled
    rows = client.get("/api/villages").json()
    assert len(rows) == 12
    for row in rows:
        assert set(row) >= VILLAGE_FIELDS
    statuses = {r["code"]: r["status"] for r in rows}
    expected = {"active": "active", "quiet": "low_activity", "abandoned": "inactive",
                "no_site": "no_site", "down_500": "unreachable", "hang": "unreachable",
                "unresolvable": "unreachable"}  # fmt: skip
    for code, behaviour in behaviours.items():
        if behaviour in expected:
            assert statuses[code] == expected[behaviour], (code, behaviour)
    active = client.get("/api/villages?status=active").json()
    assert active and all(r["status"] == "active" for r in active)
    kec = rows[0]["kecamatan_code"]
    assert {r["kecamatan_code"] for r in client.get(f"/api/villages?kecamatan={kec}").json()} == {
        kec
    }
    assert client.get("/api/villages?status=bogus").status_code == 400
    scores = {r["code"]: r["score"] for r in rows}
    for code in behaviours:
        assert scores[code] is not None and 0 <= scores[code] <= 100
    best_active = max(scores[c] for c, b in behaviours.items() if b == "active")
    assert best_active > max(scores[c] for c, b in behaviours.items() if b == "abandoned")


def test_every_score_component_carries_its_reason(client: httpx.Client) -> None:
    for row in client.get("/api/villages").json():
        detail = client.get(f"/api/villages/{row['code']}").json()
        if row["status"] == "no_site":
            assert detail["score"] == 0 and detail["score_penalty"]
            continue
        keys = [c["key"] for c in detail["score_components"]]
        assert keys == ["freshness", "cadence", "availability", "services", "engagement"]
        assert all(c["reason"] for c in detail["score_components"])


def test_api_village_detail(client: httpx.Client, polled: tuple[Store, dict[str, str]]) -> None:
    _, behaviours = polled
    down = next(c for c, b in behaviours.items() if b == "down_500")
    detail = client.get(f"/api/villages/{down}").json()
    assert VILLAGE_FIELDS | {"recent_checks", "metrics", "services", "findings"} <= set(detail)
    check = detail["recent_checks"][0]
    assert check["ok"] is False and check["phase"] == "http" and check["status_code"] == 500
    assert client.get("/api/villages/99.99.99.9999").status_code == 404


def test_api_news_newest_first_search_and_paging(client: httpx.Client) -> None:
    news = client.get("/api/news?limit=20").json()
    assert len(news) == 20
    for item in news:
        assert {"village_code", "title", "url", "published_at", "category", "summary"} <= set(item)
    dates = [n["published_at"] for n in news]
    assert dates == sorted(dates, reverse=True)
    assert news[0]["title"] == STORED_TITLE  # reduced to text, escaped on output
    page2 = client.get("/api/news?limit=20&offset=20").json()
    assert {n["url"] for n in page2}.isdisjoint({n["url"] for n in news})
    found = client.get("/api/news?q=skor < 0,8").json()
    assert [n["title"] for n in found] == [STORED_TITLE]
    assert client.get("/api/news?limit=abc").status_code == 400


def test_api_findings_is_a_list(client: httpx.Client) -> None:
    assert client.get("/api/findings?status=open").json() == []


def test_pages_in_bahasa_indonesia_with_escaped_village_content(client: httpx.Client) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "Ringkasan Sistem Informasi Desa" in home.text and "Kecamatan" in home.text
    assert "Tidak aktif" in home.text and "Belum ada situs" in home.text
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    rows = client.get("/api/villages").json()
    kec = next(r["kecamatan_code"] for r in rows if r["news_count"] and r["status"] == "active")
    page = client.get(f"/kecamatan/{kec}")
    assert page.status_code == 200 and "Desa/Kelurahan" in page.text
    news = client.get("/berita?q=skor < 0,8")
    assert "Rapat &amp; &#34;Musdes&#34; skor &lt; 0,8" in news.text
    assert "<script>alert" not in news.text and "<b>skor" not in news.text
    village = next(r for r in rows if r["status"] == "active")
    vpage = client.get(f"/desa/{village['code']}")
    assert vpage.status_code == 200 and "Riwayat pemeriksaan" in vpage.text
    assert client.get("/kecamatan/99.99.99").status_code == 404


def test_health_reports_backlog(client: httpx.Client) -> None:
    body = client.get("/healthz").json()
    assert body["ok"] is True and body["overdue"] >= 0


def test_the_app_keeps_its_loaded_objects_out_of_the_collectors_scans(tmp_path: Path) -> None:
    """A full garbage collection over everything loaded took ~100 ms of some request."""
    import gc

    from aggregator.settings import Settings
    from aggregator.store import Store
    from aggregator.web import create_app

    gc.unfreeze()
    store = Store(f"sqlite:///{tmp_path}/w.db", Settings())
    store.migrate()
    create_app(Settings(), store=store, run_scheduler=False, secret_key="k" * 32)
    assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
    store.close()
