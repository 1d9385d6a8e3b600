"""Load test: concurrent dashboard requests while a poll pass runs.

A simulated fleet serves village sites; `sipande serve --no-scheduler` (its own process)
serves the dashboard over a store that `sipande poll --once` (another process) is writing
at the same time. Many clients request the overview, kecamatan, village, news-search pages
and the API; prints throughput, latency percentiles and the error count.

    .venv/bin/python bench/bench_load.py --villages 36 --clients 16 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fleet import Fleet  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sipande(*args: str) -> list[str]:
    return [sys.executable, "-m", "aggregator", *args]


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("dashboard did not start")


async def _client(base: str, paths: list[str], until: float, out: dict[str, Any]) -> None:
    rnd = random.Random(len(out["latencies"]))
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.monotonic() < until:
            path = rnd.choice(paths)
            started = time.perf_counter()
            try:
                resp = await client.get(path)
                ok = resp.status_code == 200
            except httpx.HTTPError:
                ok = False
            out["latencies"].append((time.perf_counter() - started) * 1000)
            out["errors"] += 0 if ok else 1


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "SIPANDE_DATABASE_URL": ""}
    async with Fleet.from_district(args.villages, seed=args.seed) as fleet:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "fleet.yaml"
            config.write_text(fleet.config_yaml(settings={"request_timeout": "5s"}))
            db = f"sqlite:///{tmp}/load.db"
            first = await asyncio.create_subprocess_exec(
                *_sipande("poll", "--config", str(config), "--once", "--database", db),
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            await first.wait()  # a store with content to show
            port = _free_port()
            server = subprocess.Popen(
                _sipande("serve", "--config", str(config), "--no-scheduler", "--port", str(port),
                         "--database", db),
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                base = f"http://127.0.0.1:{port}"
                await _wait_up(base)
                kec = sorted({v.kecamatan_code for v in fleet.villages})
                codes = [v.code for v in fleet.villages]
                paths = ["/", "/berita?q=posyandu", "/api/villages", "/api/news?limit=50"]
                paths += [f"/kecamatan/{k}" for k in kec[:5]] + [f"/desa/{c}" for c in codes[:5]]
                out: dict[str, Any] = {"latencies": [], "errors": 0}
                poller = await asyncio.create_subprocess_exec(
                    *_sipande("poll", "--config", str(config), "--once", "--database", db),
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                started = time.monotonic()
                poll_done = asyncio.create_task(poller.wait())
                poll_end: list[float] = []
                poll_done.add_done_callback(lambda _: poll_end.append(time.monotonic()))
                until = started + args.seconds
                await asyncio.gather(
                    *(_client(base, paths, until, out) for _ in range(args.clients))
                )
                elapsed = time.monotonic() - started
                await poll_done
            finally:
                server.terminate()
                server.wait(timeout=10)
    lat = sorted(out["latencies"])

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1)

    assert poll_end
    return {
        "bench": "dashboard_load",
        "villages": args.villages,
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(lat),
        "throughput_rps": round(len(lat) / elapsed, 1),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.mean(lat), 1),
        "errors": out["errors"],
        # How long the poll pass wrote to the store while the dashboard was under load.
        "poll_pass_s": round(poll_end[0] - started, 1),
        "overlap_s": round(min(poll_end[0] - started, elapsed), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=36)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=7)
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result))
    for key, value in result.items():
        print(f"{key:<22} {value}")


if __name__ == "__main__":
    main()
