"""Cost of the integrity watch per village: requests, wall time and CPU of one scan.

Each site kind of the simulated fleet is scanned with the real fetch plan (three views of the
home page, robots.txt, sitemap, recent item pages); then the pure analysis is replayed on
the recorded pages to give the CPU cost without network or server noise. Prints one JSON
line and a table.

    .venv/bin/python bench/bench_integrity.py --repeat 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.fetch.client import Fetcher
from aggregator.integrity.watch import analyse, fetch_plan
from aggregator.poll.village_http import VillageHttp
from aggregator.settings import Settings
from aggregator.types import VillageForPoll
from connectors import connector_for
from fleet import KINDS, Fleet


async def run(repeat: int) -> dict[str, Any]:
    settings = Settings(allow_private_addresses=True, request_timeout=10)
    out: dict[str, Any] = {"bench": "integrity", "repeat": repeat, "kinds": {}}
    async with Fleet.of_kinds(KINDS, seed=11) as fleet, Fetcher(settings) as fetcher:
        for v in fleet.villages:
            village = VillageForPoll(code=v.code, url=fleet.url(v.code), platform="auto")
            harvest = await connector_for("auto").collect(village, VillageHttp(fetcher, {}))
            items = harvest.items[:20]
            wall = time.perf_counter()
            fetched = await fetch_plan(fetcher, village.url, items)
            report = analyse(fetched)
            wall_ms = (time.perf_counter() - wall) * 1000
            cpu = []
            for _ in range(repeat):
                started = time.process_time()
                analyse(fetched)
                cpu.append(time.process_time() - started)
            out["kinds"][fleet.kind(v.code)] = {
                "level": report.level,
                "requests": report.requests,
                "scan_wall_ms": round(wall_ms, 1),
                "scan_cpu_ms": round(statistics.median(cpu) * 1000, 2),
            }
    cpus = [k["scan_cpu_ms"] for k in out["kinds"].values()]
    out["mean_cpu_ms_per_village"] = round(statistics.mean(cpus), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    result = asyncio.run(run(parser.parse_args().repeat))
    print(json.dumps(result))
    print(f"{'kind':<26} {'level':<18} {'req':>4} {'wall ms':>9} {'cpu ms':>8}")
    for kind, r in result["kinds"].items():
        print(
            f"{kind:<26} {r['level']:<18} {r['requests']:>4} {r['scan_wall_ms']:>9} "
            f"{r['scan_cpu_ms']:>8}"
        )
    print(f"mean CPU per village scan: {result['mean_cpu_ms_per_village']} ms")


if __name__ == "__main__":
    main()
