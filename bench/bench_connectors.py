"""CPU cost of each connector per village poll, without network or server noise.

Every site kind of the simulated fleet is polled once for real (first poll, with backfill)
and once more (a later poll); the responses are recorded, then each connector's `collect`
is replayed against the recording many times and timed with the process clock. Prints
one JSON line and a table: ms per poll by kind, first and later polls.

    .venv/bin/python bench/bench_connectors.py --repeat 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.fetch.client import Fetcher
from aggregator.poll.village_http import VillageHttp
from aggregator.settings import Settings
from aggregator.types import FetchResponse, Harvest, VillageForPoll
from connectors import connector_for
from fleet import KINDS, Fleet


class Recorder:
    """A VillageHttp that keeps every response, then serves them again without I/O."""

    def __init__(self, http: VillageHttp | None) -> None:
        self.http = http
        self.seen: dict[tuple[str, bool], FetchResponse] = {}

    async def get(self, url: str, *, conditional: bool = True) -> FetchResponse:
        key = (url, conditional)
        if self.http is None:
            return self.seen[key] if key in self.seen else self.seen[(url, not conditional)]
        resp = await self.http.get(url, conditional=conditional)
        self.seen[key] = resp
        return resp

    def release(self, url: str) -> None:
        """Kept: the replay serves every recorded page again."""


async def _time(village: VillageForPoll, recorded: Recorder, repeat: int) -> tuple[float, int]:
    replay = Recorder(None)
    replay.seen = recorded.seen
    times = []
    harvest: Harvest | None = None
    for _ in range(repeat):
        started = time.process_time()
        harvest = await connector_for(village.platform).collect(village, replay)
        times.append(time.process_time() - started)
    assert harvest is not None
    return statistics.median(times) * 1000, len(harvest.items)


async def run(repeat: int) -> dict[str, Any]:
    settings = Settings(allow_private_addresses=True, request_timeout=10)
    out: dict[str, Any] = {"bench": "connectors", "repeat": repeat, "kinds": {}}
    async with Fleet.of_kinds(KINDS, seed=11) as fleet, Fetcher(settings) as fetcher:
        for v in fleet.villages:
            base = VillageForPoll(code=v.code, url=fleet.url(v.code), platform="auto")
            first = Recorder(VillageHttp(fetcher, {}))
            harvest = await connector_for("auto").collect(base, first)
            later_village = replace(base, feed_url=harvest.feed_url)
            later = Recorder(VillageHttp(fetcher, {}))
            await connector_for("auto").collect(later_village, later)
            first_ms, first_items = await _time(base, first, repeat)
            later_ms, later_items = await _time(later_village, later, repeat)
            out["kinds"][fleet.kind(v.code)] = {
                "platform": harvest.platform,
                "first_poll_ms": round(first_ms, 2),
                "first_poll_items": first_items,
                "first_poll_requests": len(first.seen),
                "later_poll_ms": round(later_ms, 2),
                "later_poll_items": later_items,
                "later_poll_requests": len(later.seen),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    result = asyncio.run(run(parser.parse_args().repeat))
    print(json.dumps(result))
    print(f"{'kind':<26} {'platform':<10} {'first ms':>9} {'items':>6} {'req':>4} "
          f"{'later ms':>9} {'items':>6} {'req':>4}")  # fmt: skip
    for kind, r in result["kinds"].items():
        print(
            f"{kind:<26} {r['platform']:<10} {r['first_poll_ms']:>9} {r['first_poll_items']:>6} "
            f"{r['first_poll_requests']:>4} {r['later_poll_ms']:>9} {r['later_poll_items']:>6} "
            f"{r['later_poll_requests']:>4}"
        )


if __name__ == "__main__":
    main()
