"""Server-side time of the kecamatan page with 30 villages and 5,000 news items,
and of the overview with its map (`--purbalingga`: the shipped 239 villages, all drawn).

Rows are written straight into a fresh store (no polling): villages of one kecamatan, news
over two years in a dozen categories, a week of checks, services and visitor counters, then
one scoring run. Pages are requested in-process through the ASGI app (httpx.ASGITransport),
so the numbers are routing + queries + template rendering, without any network. Prints one
JSON line and a readable table of p50 / p95 / max per variant.

    .venv/bin/python bench/bench_dashboard.py --requests 100 [--database postgresql://...]
    .venv/bin/python bench/bench_dashboard.py --purbalingga
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.decide.scoring import SERVICE_KINDS
from aggregator.models import Check, MetricSample, NewsItem, Service
from aggregator.settings import load_config, parse_config
from aggregator.store import Store
from aggregator.web import create_app

KEC = "33.03.01"
CATEGORIES = (
    "Berita Desa", "Pengumuman", "Kegiatan", "Pembangunan", "Kesehatan", "Ekonomi",
    "Pendidikan", "Pertanian", "BUMDes", "Keuangan", "Sosial", "Budaya",
)  # fmt: skip
WORDS = (
    "musyawarah", "posyandu", "jalan", "irigasi", "bumdes", "stunting", "apbdes", "lele",
    "gotong royong", "karang taruna", "pelatihan", "bantuan", "sosialisasi", "jembatan",
)  # fmt: skip


def config_text(villages: int) -> str:
    lines = [
        'kabupaten: {code: "33.03", name: Purbalingga}',
        "kecamatan:",
        f'  - code: "{KEC}"',
        "    name: Kemangkon",
        "    villages:",
    ]
    for i in range(villages):
        url = "" if i % 15 == 14 else f"https://desa{i:02d}.bench.desa.id/"
        lines.append(
            f'      - {{code: "{KEC}.{2001 + i}", name: "Desa Uji {i:02d}", url: "{url}"}}'
        )
    return "\n".join(lines) + "\n"


def purbalingga_text() -> str:
    """The shipped config (239 villages in 18 kecamatan, real codes, so the overview draws
    the whole kabupaten map) with a site for 14 villages in 15."""
    config = load_config(Path(__file__).resolve().parents[1] / "config" / "districts.yaml")
    lines = ['kabupaten: {code: "33.03", name: Purbalingga}', "kecamatan:"]
    n = 0
    for kec in config.kecamatan:
        lines += [f'  - code: "{kec.code}"', f"    name: {kec.name}", "    villages:"]
        for v in kec.villages:
            url = "" if n % 15 == 14 else f"https://desa{n:03d}.bench.desa.id/"
            lines.append(f'      - {{code: "{v.code}", name: "{v.name}", url: "{url}"}}')
            n += 1
    return "\n".join(lines) + "\n"


def fill(store: Store, villages: int, news: int, now: datetime, seed: int) -> None:
    """Write news, checks, services and metrics directly, as many polls would have."""
    rnd = random.Random(seed)
    codes = [v["code"] for v in store.list_villages() if v["url"]]
    with Session(store.engine) as s:
        for n in range(news):
            code = codes[n % len(codes)]
            when = now - timedelta(minutes=rnd.randint(0, 730 * 24 * 60))
            topic = rnd.choice(WORDS)
            url = f"https://{code}.bench.desa.id/index.php/artikel/{n}"
            s.add(
                NewsItem(
                    village_code=code,
                    dedup_key=f"url:{n:064d}",
                    url=url,
                    guid=url,
                    title=f"Kegiatan {topic} di {code} nomor {n}",
                    summary=f"Warga mengikuti kegiatan {topic} bersama pemerintah desa. " * 3,
                    published_at=when,
                    category=rnd.choice(CATEGORIES),
                    first_seen=when,
                    content_hash=f"{n:064d}",
                )
            )
        for i, code in enumerate(codes):
            for h in range(0, 7 * 24, 2):  # a check every two hours for a week
                ok = i % 10 != 3 or h % 3 == 0
                s.add(
                    Check(
                        village_code=code,
                        started_at=now - timedelta(hours=h),
                        ok=ok,
                        duration_ms=rnd.randint(80, 1500),
                        phase=None if ok else "connect",
                        status_code=200 if ok else None,
                    )
                )
            for k, kind in enumerate(SERVICE_KINDS):
                available = (i + k) % 3 != 0
                count = rnd.randint(0, 40)
                s.add(Service(village_code=code, kind=kind, available=available, count=count,
                              checked_at=now))  # fmt: skip
            for d in range(7):
                value = 10_000 + 40 * (7 - d) + i
                at = now - timedelta(days=d)
                s.add(MetricSample(village_code=code, name="visitors_total", value=value, at=at))
        s.commit()
    store.refresh_statuses(now)
    store.rollup_checks(now)
    store.score_all(now)


VARIANTS = {
    "ringkasan (peta)": "/",
    "ringkasan peta skor": "/?peta=skor",
    "kecamatan": f"/kecamatan/{KEC}",
    "kecamatan halaman 50": f"/kecamatan/{KEC}?halaman=50",
    "kecamatan cari": f"/kecamatan/{KEC}?q=posyandu",
    "kecamatan kategori+desa": f"/kecamatan/{KEC}?kategori=Kesehatan&desa={KEC}.2001",
    "kecamatan urut skor": f"/kecamatan/{KEC}?urut=skor&arah=turun",
    "ekspor berita csv": f"/kecamatan/{KEC}/berita.csv",
}


async def measure(store: Store, requests: int) -> dict[str, dict[str, float]]:
    app = create_app(store.settings, store=store, run_scheduler=False)
    transport = httpx.ASGITransport(app=app)
    results: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, path in VARIANTS.items():
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
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                "max_ms": round(times[-1], 1),
                "bytes": len(response.content),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=30)
    parser.add_argument("--news", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--purbalingga",
        action="store_true",
        help="the shipped config's 239 villages instead of --villages in one kecamatan",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        config = parse_config(
            purbalingga_text() if args.purbalingga else config_text(args.villages)
        )
        args.villages = len(config.villages)
        store = Store(url, config.settings)
        store.migrate()
        now = datetime.now(UTC)
        store.sync_config(config, now)
        t0 = time.perf_counter()
        fill(store, args.villages, args.news, now, args.seed)
        fill_s = time.perf_counter() - t0
        results = asyncio.run(measure(store, args.requests))
        store.close()
    summary: dict[str, Any] = {
        "bench": "dashboard",
        "database": url.split(":", 1)[0],
        "villages": args.villages,
        "news": args.news,
        "requests": args.requests,
        "fill_s": round(fill_s, 2),
        "results": results,
    }
    print(json.dumps(summary, ensure_ascii=False))
    print(f"\n{args.villages} villages, {args.news} news, {args.requests} requests per row "
          f"({summary['database']}, filled in {fill_s:.1f} s)")  # fmt: skip
    print(f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
    for name, r in results.items():
        print(f"{name:<26} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8} {r['bytes']:>9}")


if __name__ == "__main__":
    main()
