"""One status rule: the per-poll refresh and the periodic scoring run derive the same status
for every village of a simulated fleet, and "siap Sipande" has one meaning everywhere."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.cli import poll_once
from aggregator.decide.schedule import decide
from aggregator.decide.status import is_ready
from aggregator.integrity.watch import FindingReport, IntegrityReport
from aggregator.settings import Settings, parse_config
from aggregator.store import Store
from aggregator.types import Harvest, ParsedItem, PollOutcome
from aggregator.web.kecamatan import kecamatan_context
from fleet import Fleet
from tests.test_store import CONFIG, NOW  # Kedungbenda (a site) and Bokol (none) in Kemangkon

FAST = {"request_timeout": "2s", "connect_timeout": "2s"}


def _statuses(store: Store) -> dict[str, str]:
    return {str(v["code"]): str(v["status"]) for v in store.list_villages()}


def test_poll_and_scoring_run_derive_the_same_status_for_every_village(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.from_district(36, seed=5) as fleet:
            config = parse_config(fleet.config_yaml(settings=FAST), "fleet.yaml")
            store = Store(f"sqlite:///{tmp_path}/status.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            await poll_once(config, store)
            failing = [str(v["code"]) for v in store.list_villages() if v["last_check_ok"] is False]
            for _ in range(2):  # down three times in a row: unreachable
                await poll_once(config, store, villages=failing)
            after_poll = _statuses(store)
            # The periodic run at the same moment as a per-poll refresh of every village.
            now = datetime.now(UTC) + timedelta(seconds=1)
            store.refresh_statuses(now)
            per_poll = _statuses(store)
            store.score_all(now)
            periodic = _statuses(store)
            store.close()
        assert set(periodic) == {v.code for v in fleet.villages}
        assert periodic == per_poll
        assert per_poll == after_poll  # a second later nothing moves either
        # The fleet spans the statuses, so a rule applied differently would show.
        statuses = {"active", "low_activity", "inactive", "unreachable", "compromised", "no_site"}
        assert statuses == set(periodic.values())

    asyncio.run(main())


def _item(n: int, published_at: datetime, *, spam: bool = False) -> ParsedItem:
    url = f"http://kedungbenda.example/artikel/{n}"
    return ParsedItem(
        title=f"Berita {n}", url=url, guid=url, published_at=published_at,
        summary="", content_hash=f"{n:064d}", spam=spam,
    )  # fmt: skip


def test_spam_and_future_posts_are_no_activity_on_either_path(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/activity.db", Settings())
    store.migrate()
    store.sync_config(parse_config(CONFIG), NOW)
    items = (
        _item(1, NOW - timedelta(days=40)),  # the last real post: low activity
        _item(2, NOW - timedelta(hours=1), spam=True),
        _item(3, NOW + timedelta(days=3)),  # dated ahead: not activity yet
    )
    village = store.due_villages(NOW, codes=["33.03.01.2001"], all_villages=True)[0]
    outcome = PollOutcome(
        village.code, NOW, 100, True, harvest=Harvest("opensid", "24.10", None, items=items)
    )
    store.record_poll(outcome, decide(village, outcome, store.settings))
    row = store.village_detail("33.03.01.2001") or {}
    assert row["status"] == "low_activity" and row["news_count"] == 3
    assert row["last_post_at"] == (NOW - timedelta(days=40)).isoformat()
    store.refresh_statuses(NOW)
    assert _statuses(store)["33.03.01.2001"] == "low_activity"
    store.score_all(NOW)
    row = store.village_detail("33.03.01.2001") or {}
    assert row["status"] == "low_activity" and row["posts_30d"] == 0
    store.close()


def test_ready_means_every_village_with_a_site_is_active() -> None:
    assert is_ready(with_site=3, active_with_site=3)
    assert not is_ready(with_site=3, active_with_site=2)
    assert not is_ready(with_site=0, active_with_site=0)  # no site at all: not ready


def test_siap_sipande_is_the_same_on_every_page(tmp_path: Path) -> None:
    """A village without a site does not count, even when a finding makes it compromised:
    the summary, the kecamatan list and the kecamatan page all say the same."""
    store = Store(f"sqlite:///{tmp_path}/ready.db", Settings())
    store.migrate()
    store.sync_config(parse_config(CONFIG), NOW)
    village = store.due_villages(NOW, codes=["33.03.01.2001"], all_villages=True)[0]
    harvest = Harvest("opensid", "24.10", None, items=(_item(1, NOW - timedelta(days=1)),))
    outcome = PollOutcome(village.code, NOW, 100, True, harvest=harvest)
    store.record_poll(outcome, decide(village, outcome, store.settings))
    finding = FindingReport("judi_online", "compromised", "slot", "http://bokol.example/", 9, ())
    report = IntegrityReport("compromised", 9, (finding,), (), 1)
    store.record_integrity("33.03.01.2002", report, NOW)
    statuses = _statuses(store)
    assert statuses["33.03.01.2001"] == "active" and statuses["33.03.01.2002"] == "compromised"
    summary = store.kecamatan_summary()["kecamatan"][0]
    overview = store.kecamatan_overview()[0]
    page = kecamatan_context(store, {"code": "33.03.01", "name": "Kemangkon"}, NOW)
    assert summary["ready"] is overview["ready"] is page["ready"] is True
    assert store.kecamatan_summary()["kabupaten"]["ready_kecamatan"] == 1
    store.close()
