"""Poll passes over N simulated villages with a realistic latency mix.

Most villages answer in 50-800 ms, 5 % take 3-8 s, 5 % never answer. The village sites are
served by a separate process (so its CPU is not counted), each under its own host name
through fetch's static host table. Two kinds of fleet (--sites):

- opensid (the default): what users run. OpenSID 24.10 sites (bench/opensid_sites.py:
  home page, a feed without validators, service pages, sitemap, article pages) polled as
  `platform: auto` with the default settings (integrity watch on, default request timeout).
  Their home, article and service pages are a real 2410 site's recordings (--pages real,
  the default: 18-66 kB each); --pages small serves the generated 5 kB / 0.4 kB pages
  earlier runs used, which cost less to parse than any real theme;
- feed: feed-only sites with ETags and the integrity watch off, the bare poll path.

Five passes, each over every village, on one store:

- initial: the first poll of every site (news, home page, backfill: its service pages and
  integrity scan wait for the village's slot of `first_read_spread`, 6 h by default);
- settled: a steady poll at that slot, where they are read (what onboarding adds once);
- unchanged: nothing changed since (the steady state);
- changed: every site has published one new article since;
- six_hourly: a steady poll at the village's 6-hourly slot (home page and integrity scan);
- daily: one at its daily slot (also service pages and robots.txt).

The day's average per poll (44 plain polls, 3 six-hourly, 1 daily: a poll every 30 min)
is printed with its national projection.

Prints one JSON line and a readable table: per pass the requests per village by kind (as
the sites counted them), the wall time against its ideal (one request per village at its
latency, two on the first pass, spread over the concurrency), the CPU ms per village and the
villages failed (and how many of those answer within the request timeout); peak RSS; and the
projection to 84,000 villages every 30 minutes (requests per second and cores).

    .venv/bin/python bench/bench_poll.py --villages 2000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlmodel import Session, select

from aggregator.fetch.client import Fetcher
from aggregator.fetch.robots import RobotsCache
from aggregator.memory import limit_malloc_arenas
from aggregator.models import Village
from aggregator.poll.poller import Poller
from aggregator.settings import parse_config
from aggregator.store import Store
from bench import opensid_sites
from bench.machine import python_loop_s

HOST = "v{}.bench.desa.id"
NATION = 84_000  # villages in Indonesia, polled every PERIOD seconds
PERIOD = 1800.0


def latency(i: int, seed: int) -> float | None:
    """Seconds village `i` takes to answer; None = never answers."""
    rnd = random.Random(seed * 1_000_003 + i)
    r = rnd.random()
    if r < 0.05:
        return None
    if r < 0.10:
        return rnd.uniform(3.0, 8.0)
    return rnd.uniform(0.05, 0.8)


def feed(i: int, items: int, now: datetime, generation: int = 0) -> bytes:
    """The feed-only fleet's feed (see opensid_sites.feed)."""
    return opensid_sites.feed(f"http://{HOST.format(i)}", i, items, now, generation)


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str]] | None:
    """The request line and lower-cased headers of the next request; None once the client
    has closed the connection."""
    line = await reader.readline()
    if not line:
        return None
    headers = {}
    while (h := await reader.readline()) not in (b"\r\n", b""):
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return line, headers


def answer(line: bytes, headers: dict[str, str], etag: str, body: Callable[[], bytes]) -> bytes:
    """A village site's answer: robots.txt is a 404 (as on most village sites), the feed a
    304 when the client's ETag matches, else the feed itself."""
    if line.split()[1] == b"/robots.txt":
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    if headers.get("if-none-match") == etag:
        return b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n"
    content = body()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=UTF-8\r\n"
        + f"ETag: {etag}\r\nContent-Length: {len(content)}\r\n\r\n".encode()
        + content
    )


def opensid_answer(
    line: bytes, i: int, port: int, items: int, now: datetime, gen: int, pages: str
) -> bytes:
    base = f"http://{HOST.format(i)}:{port}"
    path = line.split()[1].decode("latin-1")
    status, kind, body = opensid_sites.respond(path, base, i, items, now, gen, pages)
    content = body()
    reason = "OK" if status == 200 else "Not Found"
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {len(content)}\r\n\r\n"
    ).encode() + content


def serve(
    seed: int,
    items: int,
    port_out: Any,
    generation: Any,
    sites: str,
    counts: Any,
    pages: str,
    older: int,
) -> None:
    """The village sites: one loopback port, the Host header says which village."""
    opensid_sites.OLDER = older  # this process serves every site
    now = datetime.now(UTC) - timedelta(days=4)  # generation 1 is still in the past
    cache: dict[tuple[int, int], bytes] = {}
    port = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await read_request(reader)) is not None:
                line, headers = request
                i = int(headers.get("host", "v0").split(".")[0][1:])
                kind = opensid_sites.kind_of(line.split()[1].decode("latin-1"))
                counts[opensid_sites.KINDS.index(kind)] += 1
                delay = latency(i, seed)
                if delay is None:
                    await asyncio.sleep(3600)
                    return
                await asyncio.sleep(delay)
                gen = generation.value
                if sites == "opensid":
                    writer.write(opensid_answer(line, i, port, items, now, gen, pages))
                    await writer.drain()
                    continue

                def body(i: int = i, gen: int = gen) -> bytes:
                    cache.pop((i, gen - 1), None)
                    return cache.get((i, gen)) or cache.setdefault(
                        (i, gen), feed(i, items, now, gen)
                    )

                writer.write(answer(line, headers, f'"{seed}-{i}-{gen}"', body))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        nonlocal port
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port = server.sockets[0].getsockname()[1]
        port_out.send(port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def config_text(
    n: int, port: int, concurrency: int, timeout: float | None, sites: str, watch: bool = True
) -> str:
    lines = [
        'kabupaten: {code: "33.03", name: Purbalingga}',
        "settings:",
        "  allow_private_addresses: true",
        f"  concurrency: {concurrency}",
    ]
    if sites == "opensid" and not watch:
        lines.append("  integrity_watch: false")
    if sites == "feed":
        lines += [
            "  integrity_watch: false  # the bare poll path; bench_integrity.py measures it",
            "  connect_timeout: 5s",
        ]
    if timeout is not None:
        lines.append(f"  request_timeout: {timeout:g}s")
    lines.append("kecamatan:")
    per_kec = max(100, -(-n // 99))  # kecamatan codes have two digits
    for k in range((n + per_kec - 1) // per_kec):
        lines += [f'  - code: "33.03.{k + 1:02d}"', f"    name: Kecamatan {k + 1}", "    villages:"]
        for j in range(min(per_kec, n - k * per_kec)):
            i = k * per_kec + j
            path, platform = ("/", "auto") if sites == "opensid" else ("/index.php/feed", "feed")
            url = f"http://{HOST.format(i)}:{port}{path}"
            lines.append(
                f'      - {{code: "33.03.{k + 1:02d}.{2001 + j}", name: "Uji {i}", '
                f'url: "{url}", platform: {platform}}}'
            )
    return "\n".join(lines) + "\n"


async def one_pass(
    poller: Poller, store: Store, profile: str | None = None
) -> tuple[float, float, float, Any]:
    villages = store.due_villages(datetime.now(UTC), all_villages=True)
    wall, cpu, writer = time.perf_counter(), time.process_time(), poller.writer.cpu_seconds
    # The event loop thread's CPU time: not wall time (a syscall would absorb the waits of a
    # busy machine) nor process time (the writer thread's work would land on the loop's calls).
    profiler = cProfile.Profile(time.thread_time) if profile else None
    if profiler:
        profiler.enable()
    report = await poller.run_pass(villages)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        poller.writer.cpu_seconds - writer,
        report,
    )


# The passes, in order. "settled" is a steady poll at the village's slot of its first 6 h:
# its first poll moved back 6 h. "six_hourly" and "daily" are steady polls at a village's
# slot: its plan and last integrity scan moved back past one and a half periods of the
# 6-hourly parts (home page, integrity scan) or of every part (also service pages, robots.txt).
PASSES = ("initial", "settled", "unchanged", "changed", "six_hourly", "daily")
AGED = {"settled": 6.0, "six_hourly": 9.5, "daily": 37.0}  # hours
POLLS_PER_DAY = 48  # every 30 minutes


def age_plans(store: Store, hours: float, *, first_only: bool = False) -> None:
    """Move every village's plan times and last integrity scan `hours` back; daily parts
    only when `hours` exceeds a day and a half. `first_only`: its first poll alone."""
    shift = timedelta(hours=hours)
    with Session(store.engine) as s:
        for village in s.exec(select(Village)).all():
            plan = json.loads(village.plan or "{}")
            for key, value in plan.items():
                if key.startswith(("svc:", "robots")) and hours < 36:
                    continue
                if first_only and key != "first":
                    continue
                try:
                    plan[key] = (datetime.fromisoformat(value) - shift).isoformat()
                except (TypeError, ValueError):
                    continue
            village.plan = json.dumps(plan)
            if village.integrity_checked_at is not None and not first_only:
                village.integrity_checked_at -= shift
            s.add(village)
        s.commit()


def failed_answering(store: Store, delays: list[float | None]) -> tuple[int, int]:
    """(villages whose newest check failed, those of them whose site answers every request)."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, last_check_ok FROM village")).all()
    failed = [int(name.split()[-1]) for name, ok in rows if not ok]
    return len(failed), sum(1 for i in failed if delays[i] is not None)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    spawn = multiprocessing.get_context("spawn")
    generation = spawn.Value("i", 0)
    counts = spawn.Array("l", len(opensid_sites.KINDS))
    server = spawn.Process(
        target=serve,
        args=(
            args.seed,
            args.items,
            sender,
            generation,
            args.sites,
            counts,
            args.pages,
            args.older,
        ),
        daemon=True,
    )
    server.start()
    port = receiver.recv()
    delays = [latency(i, args.seed) for i in range(args.villages)]
    requests: dict[str, dict[str, int]] = {}
    failures: dict[str, tuple[int, int]] = {}
    try:
        text_ = config_text(
            args.villages, port, args.concurrency, args.timeout, args.sites, not args.no_watch
        )
        config = parse_config(text_)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            hosts = {HOST.format(i): "127.0.0.1" for i in range(args.villages)}
            async with Fetcher(config.settings, hosts=hosts) as fetcher:
                poller = Poller(store, fetcher, config.settings)
                passes = {}
                for name in args.passes.split(","):
                    if name == "changed":
                        generation.value = 1  # every site publishes one article
                    if name in AGED:
                        age_plans(store, AGED[name], first_only=name == "settled")
                    if name == "daily":  # a day on: robots.txt is not in memory either
                        poller.robots = RobotsCache(fetcher)
                    where = f"{args.profile}.{name}" if args.profile else None
                    counts[:] = [0] * len(opensid_sites.KINDS)
                    # On stderr, for a watcher (or a profiler to attach to one pass).
                    print(f"pass {name}: started", file=sys.stderr, flush=True)
                    passes[name] = await one_pass(poller, store, where)
                    print(f"pass {name}: done", file=sys.stderr, flush=True)
                    requests[name] = dict(zip(opensid_sites.KINDS, counts[:], strict=True))
                    failures[name] = failed_answering(store, delays)
                writes = {
                    "writer_batches": poller.writer.batches,
                    "writer_peak_queue": poller.writer.peak_queue,
                }
            store.close()
    finally:
        server.kill()
    timeout = config.settings.request_timeout
    spent = [timeout if d is None else d for d in delays]
    # Each request waits out the site's latency; a first poll needs two (home page, feed).
    ideal = max(sum(spent) / args.concurrency, max(spent))
    first_ideal = max(sum(2 * s for s in spent) / args.concurrency, 2 * max(spent))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = args.villages
    out: dict[str, Any] = {
        "bench": "poll_pass",
        "sites": args.sites,
        "pages": args.pages if args.sites == "opensid" else "feed",
        "villages": n,
        "concurrency": args.concurrency,
        "request_timeout_s": timeout,
        "integrity_watch": config.settings.integrity_watch,
        "items_per_feed": args.items,
        "sitemap_older": args.older,
    }
    for name, (wall, cpu, writer_cpu, report) in passes.items():
        best = first_ideal if name == "initial" else ideal
        total = sum(requests[name].values())
        by_kind = {k: round(v / n, 2) for k, v in requests[name].items() if v}
        out |= {
            f"{name}_requests_per_village": round(total / n, 2),
            f"{name}_requests_by_kind": by_kind,
            f"{name}_wall_s": round(wall, 2),
            f"{name}_ideal_wall_s": round(best, 2),
            f"{name}_wall_over_ideal": round(wall / best, 3),
            f"{name}_cpu_ms_per_village": round(cpu * 1000 / n, 2),
            f"{name}_writer_cpu_ms_per_village": round(writer_cpu * 1000 / n, 2),
            f"{name}_ok": report.ok,
            f"{name}_failed": failures[name][0],
            f"{name}_failed_but_answering": failures[name][1],
            f"{name}_new_items": report.new_items,
        }
    out |= writes
    out["peak_rss_mb"] = round(rss_mb, 1)
    for name in ("unchanged", "changed"):
        if name not in passes:
            continue
        wall, cpu, _writer, _report = passes[name]
        per_village = sum(requests[name].values()) / n
        out[f"nation_{name}_requests_per_s"] = round(per_village * NATION / PERIOD, 1)
        out[f"nation_{name}_cores"] = round(cpu / n * NATION / PERIOD, 3)
    # A day of a site that publishes nothing: 44 plain polls, 3 at its 6-hourly slot, 1 at
    # its daily slot (every part read, integrity scan included).
    weights = {"unchanged": POLLS_PER_DAY - 4, "six_hourly": 3, "daily": 1}
    if not set(weights) <= set(passes):
        return out
    day_requests = sum(w * sum(requests[k].values()) for k, w in weights.items()) / n
    day_cpu = sum(w * passes[k][1] for k, w in weights.items()) / n
    out["day_requests_per_poll"] = round(day_requests / POLLS_PER_DAY, 2)
    out["day_cpu_ms_per_poll"] = round(day_cpu * 1000 / POLLS_PER_DAY, 2)
    out["nation_day_requests_per_s"] = round(day_requests * NATION / 86400, 1)
    out["nation_day_cores"] = round(day_cpu * NATION / 86400, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=2000)
    parser.add_argument("--sites", choices=("opensid", "feed"), default="opensid")
    parser.add_argument(
        "--pages",
        choices=opensid_sites.PAGES,
        default="real",
        help="opensid sites' pages: a real 2410 site's (default) or small generated ones",
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--timeout", type=float, help="request deadline, s (default: the settings' default)"
    )
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument(
        "--older",
        type=int,
        default=opensid_sites.OLDER,
        help="articles an opensid site's sitemap lists beyond its feed, one every 3 days "
        f"(default {opensid_sites.OLDER}; a village with a long history lists hundreds, and a "
        "first poll confirms up to 60 of them by their page)",
    )
    parser.add_argument(
        "--no-watch", action="store_true", help="opensid sites with the integrity watch off"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--passes",
        default=",".join(PASSES),
        help="passes to run, in order (e.g. initial,unchanged for peak RSS at 10,000)",
    )
    parser.add_argument("--profile", help="write cProfile stats of each pass to PROFILE.<pass>")
    args = parser.parse_args()
    limit_malloc_arenas()  # as the sipande command does at its start
    before = python_loop_s()
    result = asyncio.run(run(args))
    result["python_loop_s"] = [before, python_loop_s()]  # machine speed (bench/machine.py)
    print(json.dumps(result))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
