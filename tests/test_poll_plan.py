"""The poll plan: a steady poll of a known OpenSID site reads the feed alone; the home page
and the service pages are read on their own cadence; a slow site is a working site."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from aggregator.cli import poll_once
from aggregator.clock import phase_of
from aggregator.models import Check, Service, Village
from aggregator.settings import DistrictConfig, Settings, parse_config
from aggregator.store import Store
from aggregator.types import SCAN_ITEM_PAGES
from aggregator.web import create_app
from fleet import Fleet
from fleet.kinds import OPENSID_KINDS
from tests.conftest import LiveServer

KIND = "opensid-2410-esensi"
FAST: dict[str, object] = {
    "request_timeout": "2s",
    "connect_timeout": "2s",
    "integrity_watch": False,
    "first_read_spread": 0,  # a first poll reads everything; the spread has its own test
}
DEFAULT_SPREAD = Settings().first_read_spread


def _setup(fleet: Fleet, tmp_path: Path, **settings: object) -> tuple[DistrictConfig, Store]:
    config = parse_config(fleet.config_yaml(settings={**FAST, **settings}), "fleet.yaml")
    store = Store(f"sqlite:///{tmp_path}/plan.db", config.settings)
    store.migrate()
    store.sync_config(config, datetime.now(UTC))
    return config, store


def _paths(fleet: Fleet, code: str, since: int) -> list[str]:
    return [r.path for r in fleet.requests(code)[since:]]


def _village_page(store: Store, code: str) -> str:
    with LiveServer(create_app(store.settings, store=store, run_scheduler=False)) as srv:
        return httpx.get(f"{srv.url}/desa/{code}").text


def _set_first(store: Store, code: str, first: datetime) -> None:
    with Session(store.engine) as s:
        v = s.get(Village, code)
        assert v is not None
        v.plan = json.dumps({**json.loads(v.plan), "first": first.isoformat()})
        s.add(v)
        s.commit()


def _age_plan(store: Store, code: str, hours: float, parts: tuple[str, ...]) -> None:
    """Pretend the plan's `parts` were read `hours` ago."""
    with Session(store.engine) as s:
        v = s.get(Village, code)
        assert v is not None
        plan = json.loads(v.plan)
        then = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        for key in plan:
            if key in parts or (key.startswith("svc:") and "svc" in parts):
                plan[key] = then
        v.plan = json.dumps(plan)
        s.add(v)
        s.commit()


def test_a_steady_poll_reads_the_feed_alone_and_the_plan_brings_the_rest_back(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(fleet, tmp_path)
            code = fleet.villages[0].code
            await poll_once(config, store)
            first = _paths(fleet, code, 0)
            assert "/" in first and any("pemerintah" in p for p in first)
            with Session(store.engine) as s:
                plan = json.loads(s.get(Village, code).plan)  # type: ignore[union-attr]
                kinds = {x.kind for x in s.exec(select(Service)).all()}
            assert "home" in plan and "svc:pemerintah" in plan and "menu" in plan
            assert {"pemerintah", "ppid", "lapak"} <= kinds

            seen = len(fleet.requests(code))
            await poll_once(config, store)
            steady = _paths(fleet, code, seen)
            assert steady == ["/index.php/feed"], steady  # no home page, no service page

            # The home page is due once HOME_EVERY has passed and the village's slot has come
            # (at most one and a half periods): read again, services still not due.
            _age_plan(store, code, 9.5, ("home",))
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            again = _paths(fleet, code, seen)
            assert "/" in again and not any("pemerintah" in p for p in again), again

            # A day and a half later every service page is read again, once.
            _age_plan(store, code, 37, ("home", "svc"))
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            daily = _paths(fleet, code, seen)
            assert daily.count("/") == 1 and daily.count("/index.php/pemerintah") == 1, daily
            with Session(store.engine) as s:
                checks = s.exec(select(Check).where(Check.village_code == code)).all()
            assert len(checks) == 4 and all(c.ok for c in checks)
            store.close()

    asyncio.run(main())


def test_a_steady_poll_whose_feed_moved_finds_it_again(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(fleet, tmp_path)
            code = fleet.villages[0].code
            await poll_once(config, store)
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.feed_url
                v.feed_url = v.feed_url.replace("/feed", "/feed-lama")  # now a 404
                s.add(v)
                s.commit()
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            paths = _paths(fleet, code, seen)
            # The remembered url is a 404: OpenSID's own feed url is tried next (a site
            # whose feed cannot be found that way is read from its home page again).
            assert paths == ["/index.php/feed-lama", "/index.php/feed"], paths
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.last_check_ok and v.feed_url
                assert v.feed_url.endswith("/index.php/feed")
            store.close()

    asyncio.run(main())


def test_a_failing_village_is_re_planned_with_its_home_page(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(fleet, tmp_path)
            code = fleet.villages[0].code
            await poll_once(config, store)
            fleet.set_behaviour(code, "down_500")
            await poll_once(config, store)
            fleet.set_behaviour(code, "active")
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            paths = _paths(fleet, code, seen)
            assert "/" in paths and "/index.php/pemerintah" in paths, paths
            store.close()

    asyncio.run(main())


def test_a_slow_site_is_a_working_site_and_the_rest_comes_with_later_polls(
    tmp_path: Path,
) -> None:
    """Each request answered in 1.5 s, a 2 s request timeout: a poll (6 s) fits the home
    page and the feed, not the nine requests of a full read."""

    async def main() -> None:
        async with Fleet.of_kinds([KIND], behaviour="slow", seed=5, slow_seconds=1.5) as fleet:
            config, store = _setup(fleet, tmp_path)
            code = fleet.villages[0].code
            await poll_once(config, store)
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None
                assert v.last_check_ok, v.last_error_message
                assert v.news_count >= 20 and v.consecutive_failures == 0
                first = s.exec(select(Check).where(Check.village_code == code)).one()
                assert "deferred to the next poll" in (first.message or "")
                assert first.duration_ms < 6000
            for _ in range(6):
                await poll_once(config, store)
            with Session(store.engine) as s:
                checks = s.exec(select(Check).where(Check.village_code == code)).all()
                kinds = {x.kind for x in s.exec(select(Service)).all()}
            assert all(c.ok for c in checks), [c.message for c in checks]
            assert {"ppid", "pemerintah", "lapak", "pembangunan", "pengaduan"} <= kinds, kinds
            # The deferred pages came by the menu links the first poll remembered.
            assert _paths(fleet, code, 0).count("/") == 1
            store.close()

    asyncio.run(main())


def test_a_pass_logs_one_info_line_per_village_and_endpoint_404s_at_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with Fleet.of_kinds(OPENSID_KINDS, seed=5) as fleet:
            config, store = _setup(fleet, tmp_path)
            with caplog.at_level(logging.DEBUG):
                await poll_once(config, store)
            for v in fleet.villages:
                mine = [r for r in caplog.records if f"village={v.code} " in r.getMessage()]
                info = [r for r in mine if r.levelno >= logging.INFO]
                assert len(info) <= 1, [r.getMessage() for r in info]
            debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
            assert any("not published (HTTP 404)" in m for m in debug)
            store.close()

    asyncio.run(main())


def test_a_first_poll_and_its_integrity_scan_read_robots_txt_and_the_sitemap_once(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(fleet, tmp_path, integrity_watch=True)
            code = fleet.villages[0].code
            await poll_once(config, store)
            paths = _paths(fleet, code, 0)
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.integrity_checked_at is not None  # the scan ran
            assert paths.count("/robots.txt") == 1, paths
            # The home page three times: the scan's browser view (which the poll reads too),
            # its crawler view and its view as a visitor from a search engine.
            assert paths.count("/") == 3, paths
            assert sum(1 for p in paths if p.endswith("sitemap.xml")) == 1, paths
            store.close()
            # The archive listing settles the sitemap-only articles, so the poll itself reads
            # no article page (the same first poll without the watch shows it); the scan
            # reads its two item pages, each once.
            articles = [p for p in paths if "/artikel/" in p]
            assert len(articles) == SCAN_ITEM_PAGES == len(set(articles)), paths
            assert any(p.startswith("/index.php/arsip") for p in paths), paths
            (tmp_path / "plain").mkdir()
            config, plain = _setup(fleet, tmp_path / "plain")
            since = len(fleet.requests(code))
            await poll_once(config, plain)
            assert [p for p in _paths(fleet, code, since) if "/artikel/" in p] == []
            plain.close()

    asyncio.run(main())


def test_a_new_village_gets_its_news_at_once_and_services_and_scan_at_its_slot(
    tmp_path: Path,
) -> None:
    """The defaults: a first poll reads the home page, robots.txt, the feed and the backfill;
    the service pages and the first integrity scan wait for the village's own slot of the
    first 6 h (first_read_spread), then come in one poll."""

    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(
                fleet, tmp_path, integrity_watch=True, first_read_spread=DEFAULT_SPREAD
            )
            code = fleet.villages[0].code
            await poll_once(config, store)
            first = _paths(fleet, code, 0)
            assert first.count("/") == 1 and "/index.php/feed" in first, first
            assert not any(p.endswith(("pemerintah", "lapak", "ppid")) for p in first), first
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.last_check_ok and v.news_count >= 20
                assert v.integrity_checked_at is None  # not scanned yet
                assert s.exec(select(Service)).all() == []  # services: belum terbaca
                started = datetime.fromisoformat(json.loads(v.plan)["first"])
            assert abs((started - datetime.now(UTC)).total_seconds()) < 60
            page = _village_page(store, code)
            assert 'id="integrity-pending"' in page and "Tidak ada temuan" not in page
            assert 'data-state="belum_terbaca"' in page and 'data-state="berisi"' not in page

            # Before its slot (the first poll pinned just after a slot of this village,
            # so its next one is a whole spread away), a poll reads the feed alone.
            offset = phase_of(code) * DEFAULT_SPREAD
            now = datetime.now(UTC).timestamp()
            slot = (now - offset) // DEFAULT_SPREAD * DEFAULT_SPREAD + offset
            _set_first(store, code, datetime.fromtimestamp(slot + 1, UTC))
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            assert _paths(fleet, code, seen) == ["/index.php/feed"]

            # Its slot has come: the service pages (by the menu links the first poll
            # remembered) and the scan (three views of the home page), in one poll.
            _set_first(store, code, datetime.now(UTC) - timedelta(seconds=DEFAULT_SPREAD))
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            slot_paths = _paths(fleet, code, seen)
            assert slot_paths.count("/") == 3, slot_paths
            assert slot_paths.count("/index.php/pemerintah") == 1, slot_paths
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.integrity_checked_at is not None
                kinds = {x.kind for x in s.exec(select(Service)).all()}
                plan = json.loads(v.plan)
            assert {"ppid", "pemerintah", "lapak", "pembangunan", "pengaduan"} <= kinds, kinds
            assert plan["first"] and "svc:pemerintah" in plan
            page = _village_page(store, code)
            assert "Tidak ada temuan integritas" in page and "integrity-pending" not in page
            assert 'data-state="berisi"' in page

            # Then the steady state: the feed alone.
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            assert _paths(fleet, code, seen) == ["/index.php/feed"]
            store.close()

    asyncio.run(main())


def test_a_new_village_that_fails_keeps_its_first_poll_and_waits_for_its_slot(
    tmp_path: Path,
) -> None:
    """A failing village is re-planned (everything read again), but it stays the new
    village it was: its first poll's time survives, and its service pages still wait."""

    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(fleet, tmp_path, first_read_spread=DEFAULT_SPREAD)
            code = fleet.villages[0].code
            await poll_once(config, store)
            offset = phase_of(code) * DEFAULT_SPREAD
            now = datetime.now(UTC).timestamp()
            slot = (now - offset) // DEFAULT_SPREAD * DEFAULT_SPREAD + offset
            first = datetime.fromtimestamp(slot + 1, UTC)
            _set_first(store, code, first)
            fleet.set_behaviour(code, "down_500")
            await poll_once(config, store)
            fleet.set_behaviour(code, "active")
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            paths = _paths(fleet, code, seen)
            assert "/" in paths and "/index.php/feed" in paths, paths  # re-planned
            assert not any(p.endswith(("pemerintah", "lapak", "ppid")) for p in paths), paths
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.last_check_ok
                assert json.loads(v.plan)["first"] == first.isoformat()
            store.close()

    asyncio.run(main())


def test_a_plan_whose_first_poll_is_unreadable_is_an_old_village(tmp_path: Path) -> None:
    """A plan edited by hand or by an older release: an unreadable `first` is no new
    village (nothing of it waits) and does not break the poll."""

    async def main() -> None:
        async with Fleet.of_kinds([KIND], seed=5) as fleet:
            config, store = _setup(fleet, tmp_path, first_read_spread=DEFAULT_SPREAD)
            code = fleet.villages[0].code
            await poll_once(config, store)
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None
                plan = json.loads(v.plan)
                plan["first"] = "kemarin"
                plan = {k: val for k, val in plan.items() if k != "home"}  # home page due
                v.plan = json.dumps(plan)
                s.add(v)
                s.commit()
            seen = len(fleet.requests(code))
            await poll_once(config, store)
            paths = _paths(fleet, code, seen)
            assert "/index.php/pemerintah" in paths, paths  # nothing waits
            with Session(store.engine) as s:
                v = s.get(Village, code)
                assert v is not None and v.last_check_ok
            store.close()

    asyncio.run(main())
