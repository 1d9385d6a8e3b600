"""Hostile and broken sites (issue 7) on real sockets: every fault of the fault fleet ends as a
classified, recorded failure or safely parsed content, within the deadline; the pass goes
on and stores the healthy villages; memory stays bounded; nothing is expanded or fetched
from a private address."""

from __future__ import annotations

import asyncio
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from aggregator.fetch import Fetcher
from aggregator.fleet import ACCEPTABLE_FAULT_OUTCOMES, Fleet
from aggregator.poller import Poller
from aggregator.settings import parse_config
from aggregator.store import Store

DEADLINE = 3.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_every_fault_is_classified_recorded_and_bounded(tmp_path: Path) -> None:
    async def main() -> None:
        async with Fleet.faults(seed=3, healthy=2) as fleet:
            text = fleet.config_yaml(
                settings={"allow_private_addresses": False, "request_timeout": f"{DEADLINE:g}s",
                          "max_body_bytes": 5 * 1024 * 1024}
            )  # fmt: skip
            config = parse_config(text)
            store = Store(f"sqlite:///{tmp_path}/faults.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            # The fleet lives on 127.0.0.1; every other private address stays refused, so a
            # redirect to 169.254.169.254 or 10.0.0.1 must end as "blocked".
            async with Fetcher(config.settings, address_policy=lambda a: a == "127.0.0.1") as f:
                poller = Poller(store, f, config.settings)
                before = _rss_mb()
                started = time.monotonic()
                report = await poller.run_pass(
                    store.due_villages(datetime.now(UTC), all_villages=True)
                )
                wall = time.monotonic() - started
            growth = _rss_mb() - before
            print(f"fault pass: {report.villages} villages in {wall:.1f}s, "
                  f"peak RSS {_rss_mb():.0f} MB (+{growth:.0f} MB)")  # fmt: skip
            # Bound from the deadline: a connector makes a few requests, each within the
            # deadline, and a poll as a whole is capped at three deadlines.
            assert wall < DEADLINE * 3 + 10
            assert growth < 300  # the 60 MB body and the 1 GB gzip bomb were never held
            rows = {v["code"]: v for v in store.list_villages()}
            for v in fleet.villages:
                fault = fleet.fault(v.code)
                row = rows[v.code]
                if fault is None:
                    assert row["last_check_ok"] and row["news_count"] > 0, v.code
                    continue
                phase = None if row["last_check_ok"] else row["last_error_phase"]
                assert phase in ACCEPTABLE_FAULT_OUTCOMES[fault], (fault, phase, row)
                assert row["last_checked_at"] is not None  # recorded, not skipped
            titles = " ".join(n["title"] + n["summary"] for n in store.news(limit=2000))
            assert "lollollollol" not in titles  # no entity expansion
            assert "root:x:0:0" not in titles  # no external entity read
            for n in store.news(limit=2000):
                assert "<script" not in n["title"] and "javascript:" not in (n["url"] or "")
            store.close()

    asyncio.run(main())
