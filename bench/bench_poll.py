"""Poll passes over N simulated villages with a realistic latency mix.

Most villages answer in 50-800 ms, 5 % take 3-8 s, 5 % never answer. The village sites are
served by a separate process (so its CPU is not counted), each under its own host name
through fetch's static host table; robots.txt is a 404 as on most village sites. Three
passes, each over every village:

- initial: the first poll of every site, all 50 feed items new (and robots.txt fetched);
- changed: every site has published one new article since (new ETag, 50 items of which 49
  were read before): the steady state of a village that posts;
- unchanged: nothing changed (HTTP 304).

Prints one JSON line and a readable table: per pass the wall time, the ideal wall time for
that mix and concurrency, their ratio and the CPU ms per village; and peak RSS.

    .venv/bin/python bench/bench_poll.py --villages 2000 --concurrency 256
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
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import parse_config
from aggregator.store import Store

HOST = "v{}.bench.desa.id"


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
    """An OpenSID-shaped feed (no XML declaration, +0700 dates, CDATA bodies); each
    generation adds one newer article on top and drops the oldest."""
    base = f"http://{HOST.format(i)}"
    parts = [
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>Desa Uji {i}</title><link>{base}/</link>",
        "<dc:rights>Copyright 2016-2026 OpenDesa - OpenSID 24.10</dc:rights>",
    ]
    for n in range(-generation, items - generation):
        when = now - timedelta(days=n * 3, hours=i % 24)
        link = f"{base}/index.php/artikel/{when.year}/{when.month}/{when.day}/berita-{n}"
        body = (
            f"<p>Pemerintah Desa Uji {i} melaksanakan kegiatan ke-{n} bersama warga RT 0{n % 9}."
            " Kegiatan dihadiri perangkat desa, BPD, PKK dan karang taruna.</p>" * 4
        )
        parts.append(
            f"<item><title>Kegiatan desa ke-{n} &amp; musyawarah</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{format_datetime(when)}</pubDate>"
            "<category><![CDATA[Berita Desa]]></category>"
            f"<description><![CDATA[{body[:260]} [...]]]></description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


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


def serve(seed: int, items: int, port_out: Any, generation: Any) -> None:
    """The village sites: one loopback port, the Host header says which village."""
    now = datetime.now(UTC) - timedelta(days=4)  # generation 1 is still in the past
    cache: dict[tuple[int, int], bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await read_request(reader)) is not None:
                line, headers = request
                i = int(headers.get("host", "v0").split(".")[0][1:])
                delay = latency(i, seed)
                if delay is None:
                    await asyncio.sleep(3600)
                    return
                await asyncio.sleep(delay)
                gen = generation.value

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
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def config_text(n: int, port: int, concurrency: int, timeout: float) -> str:
    lines = [
        'kabupaten: {code: "33.03", name: Purbalingga}',
        "settings:",
        "  allow_private_addresses: true",
        "  integrity_watch: false  # the bare poll path; bench_integrity.py measures the watch",
        f"  concurrency: {concurrency}",
        f"  request_timeout: {timeout:g}s",
        "  connect_timeout: 5s",
        "kecamatan:",
    ]
    per_kec = max(100, -(-n // 99))  # kecamatan codes have two digits
    for k in range((n + per_kec - 1) // per_kec):
        lines += [f'  - code: "33.03.{k + 1:02d}"', f"    name: Kecamatan {k + 1}", "    villages:"]
        for j in range(min(per_kec, n - k * per_kec)):
            i = k * per_kec + j
            url = f"http://{HOST.format(i)}:{port}/index.php/feed"
            lines.append(
                f'      - {{code: "33.03.{k + 1:02d}.{2001 + j}", name: "Uji {i}", '
                f'url: "{url}", platform: feed}}'
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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    spawn = multiprocessing.get_context("spawn")
    generation = spawn.Value("i", 0)
    server = spawn.Process(
        target=serve, args=(args.seed, args.items, sender, generation), daemon=True
    )
    server.start()
    port = receiver.recv()
    try:
        config = parse_config(config_text(args.villages, port, args.concurrency, args.timeout))
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            hosts = {HOST.format(i): "127.0.0.1" for i in range(args.villages)}
            async with Fetcher(config.settings, hosts=hosts) as fetcher:
                poller = Poller(store, fetcher, config.settings)
                passes = {}
                for name in ("initial", "changed", "unchanged"):
                    if name == "changed":
                        generation.value = 1  # every site publishes one article
                    where = f"{args.profile}.{name}" if args.profile else None
                    passes[name] = await one_pass(poller, store, where)
                writes = {
                    "writer_batches": poller.writer.batches,
                    "writer_peak_queue": poller.writer.peak_queue,
                }
            store.close()
    finally:
        server.kill()
    delays = [latency(i, args.seed) for i in range(args.villages)]
    spent = [args.timeout if d is None else d for d in delays]
    # Each request waits out the site's latency; the initial pass also asks for robots.txt.
    ideal = max(sum(spent) / args.concurrency, max(spent))
    first_ideal = max(sum(2 * s for s in spent) / args.concurrency, 2 * max(spent))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, Any] = {
        "bench": "poll_pass",
        "villages": args.villages,
        "concurrency": args.concurrency,
        "request_timeout_s": args.timeout,
        "items_per_feed": args.items,
    }
    for name, (wall, cpu, writer_cpu, report) in passes.items():
        best = first_ideal if name == "initial" else ideal
        out |= {
            f"{name}_wall_s": round(wall, 2),
            f"{name}_ideal_wall_s": round(best, 2),
            f"{name}_wall_over_ideal": round(wall / best, 3),
            f"{name}_cpu_ms_per_village": round(cpu * 1000 / args.villages, 2),
            f"{name}_writer_cpu_ms_per_village": round(writer_cpu * 1000 / args.villages, 2),
            f"{name}_ok": report.ok,
            f"{name}_new_items": report.new_items,
        }
    out |= writes
    out["peak_rss_mb"] = round(rss_mb, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=10.0, help="request deadline, s")
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", help="write cProfile stats of each pass to PROFILE.<pass>")
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
