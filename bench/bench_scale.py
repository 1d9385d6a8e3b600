"""Dashboard server time at national scale: 84,000 villages in 7,000 kecamatan,
2,000,000 news items and 90 days of history, on SQLite or PostgreSQL.

The store's rows come from scale_rows.py (its docstring gives the shapes) and are loaded
by scale_store.py (bulk inserts into the migrated tables), with a few days of daily
yardstick collections (scale_yardsticks.py; a kept store without them gets them added,
`--no-yardsticks` leaves them out). A generated store is kept and reused while its row
counts match (`--keep`, or the PostgreSQL database given).

Pages are requested in-process through the ASGI app (httpx.ASGITransport): routing,
queries and template rendering, no network. Nothing is cached between requests: the
overview reads the kecamatan summary and the daily totals the writers keep in tables, so
every request measured is what a freshly started server answers. Prints one JSON line and
a table of p50 / p95 / max per page against the budget (BUDGET_MS at p95, every page).

    .venv/bin/python bench/bench_scale.py                       # SQLite, full size
    .venv/bin/python bench/bench_scale.py --database postgresql://postgres@127.0.0.1/x
    .venv/bin/python bench/bench_scale.py --villages 1200 --news 20000 --days 10  # seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web import create_app
from bench.machine import python_loop_s
from bench.scale_rows import Generator, Layout
from bench.scale_store import (
    Loader,
    analyze,
    counts_of,
    generate,
    has_yardsticks,
    reset_pg,
    store_size,
    top_up_yardsticks,
)
from bench.scale_yardsticks import YARDSTICK_DAYS

# -- measuring ----------------------------------------------------------------------------


def pick(store: Store) -> dict[str, str]:
    """A busy kecamatan and a busy village (many news items), as an officer would open."""
    with store.engine.connect() as conn:
        village = conn.execute(
            text("SELECT code, kecamatan_code FROM village ORDER BY news_count DESC LIMIT 1")
        ).one()
        median = conn.execute(
            text(
                "SELECT code, kecamatan_code FROM village WHERE news_count > 0 "
                "ORDER BY news_count, code LIMIT 1 OFFSET "
                "(SELECT count(*) / 2 FROM village WHERE news_count > 0)"
            )
        ).one()
    return {
        "kec": village[1],
        "village": village[0],
        "kec_median": median[1],
        "village_median": median[0],
    }


def variants(p: dict[str, str]) -> dict[str, str]:
    return {
        "ringkasan (kabupaten/nasional)": "/",
        "ringkasan halaman 20, terburuk": "/?urut=masalah&halaman_kec=20",
        "ringkasan cari kecamatan": "/?cari=karangrejo",
        "ringkasan pilih kecamatan": f"/?kecamatan={p['kec']}",
        "kecamatan (tersibuk)": f"/kecamatan/{p['kec']}",
        "kecamatan (median)": f"/kecamatan/{p['kec_median']}",
        "kecamatan cari posyandu": f"/kecamatan/{p['kec']}?q=posyandu",
        "desa (tersibuk)": f"/desa/{p['village']}",
        "desa (median)": f"/desa/{p['village_median']}",
        "berita cari posyandu": "/berita?q=posyandu",
        "berita cari posyandu+kecamatan": f"/berita?q=posyandu&kecamatan={p['kec']}",
        "berita cari 2 kata": "/berita?q=bantuan%20tunai",
        "berita cari jarang": "/berita?q=embung%20desa",
        "berita cari jarang halaman 30": "/berita?q=embung%20desa&halaman=30",
        "berita cari umum": "/berita?q=desa",
        "berita cari tiada + umum": "/berita?q=zzz%20desa",
        "berita cari prefiks": "/berita?q=posy",
        "berita cari aneh": "/berita?q=%22NEAR(%27%25*",
        "berita tanpa filter": "/berita",
        "berita halaman 30": "/berita?q=posyandu&halaman=30",
        "pembinaan (kabupaten/nasional)": "/pembinaan",
        "pembinaan halaman 500": "/pembinaan?halaman=500",
        "pembinaan kecamatan": f"/pembinaan?kecamatan={p['kec']}",
        "api kecamatan": "/api/kecamatan",
        "api desa": f"/api/villages/{p['village']}",
        "api berita q": "/api/news?q=posyandu",
        "api berita kecamatan": f"/api/news?kecamatan={p['kec']}",
    }


async def measure(store: Store, paths: dict[str, str], requests: int) -> dict[str, Any]:
    app = create_app(store.settings, store=store, run_scheduler=False, secret_key="bench")
    transport = httpx.ASGITransport(app=app)
    results: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, path in paths.items():
            (await client.get(path)).raise_for_status()  # warm caches, templates, pool
            times = []
            for _ in range(requests):
                start = time.perf_counter()
                response = await client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                response.raise_for_status()
            times.sort()
            results[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, -(-len(times) * 95 // 100) - 1)], 1),
                "max_ms": round(times[-1], 1),
                "bytes": len(response.content),
            }
    return results


# Acceptance: every page and search under BUDGET_MS at p95, the overview without any cache.
BUDGET_MS = 150


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--villages", type=int, default=84_000)
    parser.add_argument("--news", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--checks-per-day", type=int, default=6)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a SQLite file, see --keep)")
    parser.add_argument(
        "--keep",
        default="/tmp/sipande-bench-scale/{villages}-{news}-{days}.db",
        help="SQLite file kept between runs (reused while its row counts match)",
    )
    parser.add_argument("--regenerate", action="store_true", help="ignore a kept store")
    parser.add_argument("--only", help="measure only pages whose name contains this")
    parser.add_argument(
        "--no-yardsticks",
        action="store_true",
        help=f"no yardstick history (else {YARDSTICK_DAYS} days of it, added to a kept store)",
    )
    args = parser.parse_args()
    keep = args.keep.format(villages=args.villages, news=args.news, days=args.days)
    url = args.database or f"sqlite:///{keep}"
    want = {"villages": args.villages, "news": args.news, "days": args.days}
    now = datetime.now(UTC)
    fresh = args.regenerate
    try:
        store = Store(url, Settings())
    except OperationalError:  # a PostgreSQL database not created yet
        reset_pg(url)
        store, fresh = Store(url, Settings()), True
    if not fresh:
        try:
            store.migrate()
            fresh = counts_of(store) != want
        except Exception:  # an unusable kept store: start again
            fresh = True
    gen_s: float | None = None
    times: dict[str, float] = {}
    if fresh:
        store.close()
        if store.engine.dialect.name == "sqlite":
            for p in Path(keep).parent.glob(Path(keep).name + "*"):
                p.unlink()
        else:
            reset_pg(url)
        store = Store(url, Settings())
        store.migrate()
        print(f"generating {want} into {url.split('://')[0]} ...", file=sys.stderr)
        t0 = time.perf_counter()
        gen = Generator(Layout(args.villages, args.seed), args.news, args.days, now, args.seed)
        times = generate(store, gen, args.checks_per_day, not args.no_yardsticks)
        gen_s = round(time.perf_counter() - t0, 1)
    elif not args.no_yardsticks and not has_yardsticks(store):
        times["yardstickcheck"] = top_up_yardsticks(store, Loader(store), now, args.seed)
        analyze(store)
    paths = variants(pick(store))
    if args.only:
        paths = {k: v for k, v in paths.items() if args.only in k}
    speed = [python_loop_s()]
    results = asyncio.run(measure(store, paths, args.requests))
    speed.append(python_loop_s())
    size = store_size(store)
    store.close()
    failed = [k for k, r in results.items() if r["p95_ms"] > BUDGET_MS]
    summary: dict[str, Any] = {
        "bench": "scale",
        "database": url.split(":", 1)[0],
        **want,
        "requests": args.requests,
        "generated_s": gen_s,
        "generate_tables_s": times or None,
        "store_mb": round(size / 1e6),
        "cpus": os.cpu_count(),
        "python_loop_s": speed,  # before and after (bench/machine.py)
        "results": results,
        "over_budget": failed,
    }
    print(json.dumps(summary, ensure_ascii=False))
    made = f"generated in {gen_s:.0f} s" if gen_s is not None else "kept store reused"
    print(
        f"\n{args.villages:,} villages, {args.news:,} news, {args.days} days, "
        f"{args.requests} requests per row ({summary['database']}, {made}, "
        f"{size / 1e6:,.0f} MB; Python loop {speed[0]} / {speed[1]} s before / after)"
    )
    print(f"{'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}  p95 < {BUDGET_MS}")
    for name, r in results.items():
        verdict = "ok" if r["p95_ms"] <= BUDGET_MS else "OVER"
        print(
            f"{name:<34} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8} {r['bytes']:>9}  "
            f"{verdict}"
        )
    print(f"over budget: {', '.join(failed)}" if failed else "every page within budget")


if __name__ == "__main__":
    main()
