"""Hostile and broken sites on real sockets: a district fleet with the fault fleet
added is polled once; every fault ends as a classified, recorded failure or safely parsed
content (one test per fault), within a bound derived from the deadline; the pass goes on
and stores the healthy villages; memory stays bounded; nothing is expanded or fetched from
a private address."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import parse_config
from aggregator.store import Store
from fleet import ACCEPTABLE_FAULT_OUTCOMES, FAULTS, Fleet

DEADLINE = 3.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def fault_pass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("faults")

    async def run() -> dict[str, Any]:
        async with Fleet.from_district(12, seed=3, faults=True) as fleet:
            text = fleet.config_yaml(
                settings={"allow_private_addresses": False, "request_timeout": f"{DEADLINE:g}s",
                          "max_body_bytes": 5 * 1024 * 1024}
            )  # fmt: skip
            config = parse_config(text)
            store = Store(f"sqlite:///{tmp}/faults.db", config.settings)
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
            print(f"\nfault pass: {report.villages} villages in {wall:.1f}s, "
                  f"peak RSS {_rss_mb():.0f} MB (+{_rss_mb() - before:.0f} MB)")  # fmt: skip
            faults = {v.code: fleet.fault(v.code) for v in fleet.villages}
            working = {
                v.code
                for v in fleet.villages
                if faults[v.code] is None and v.behaviour in ("active", "quiet", "abandoned")
            }
            return {"store": store, "wall": wall, "growth": _rss_mb() - before,
                    "faults": faults, "working": working}  # fmt: skip

    result = asyncio.run(run())
    yield result
    result["store"].close()


def test_the_pass_is_bounded_in_time_and_memory(fault_pass: dict[str, Any]) -> None:
    # A connector makes a few requests, each within the deadline; a poll is capped at three
    # deadlines, and polls run side by side.
    assert fault_pass["wall"] < DEADLINE * 3 + 10
    assert fault_pass["growth"] < 300  # the 60 MB body and the 1 GB gzip bomb never held


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_classified_and_recorded(fault_pass: dict[str, Any], fault: str) -> None:
    store: Store = fault_pass["store"]
    code = next(c for c, f in fault_pass["faults"].items() if f == fault)
    row = store.village_detail(code)
    assert row is not None and row["last_checked_at"] is not None  # recorded, not skipped
    phase = None if row["last_check_ok"] else row["last_error_phase"]
    assert phase in ACCEPTABLE_FAULT_OUTCOMES[fault], (fault, phase, row["last_error_message"])


def test_the_rest_of_the_pass_is_stored_and_nothing_unsafe_got_in(
    fault_pass: dict[str, Any],
) -> None:
    store: Store = fault_pass["store"]
    rows = {v["code"]: v for v in store.list_villages()}
    working = fault_pass["working"]
    assert working
    for code in working:  # every working village of the district stored despite the faults
        assert rows[code]["last_check_ok"] and rows[code]["news_count"] > 0, code
    text = " ".join(n["title"] + n["summary"] for n in store.news(limit=5000))
    assert "lollollollol" not in text  # no entity expansion
    assert "root:x:0:0" not in text  # no external entity read
    for n in store.news(limit=5000):
        assert "<script" not in n["title"] and not (n["url"] or "").startswith("javascript:")
