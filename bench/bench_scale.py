"""Dashboard server time at national scale: 84,000 villages in 7,000 kecamatan,
2,000,000 news items and 90 days of history, on SQLite or PostgreSQL.

The store is generated with bulk inserts straight into the migrated tables (executemany on
SQLite, COPY on PostgreSQL; the news table's secondary indexes, triggers and full-text
index are dropped during the load and rebuilt after it). Shapes: 12 villages per
kecamatan, every status, news spread very unevenly (many villages with a handful, a few
with thousands, villages without a site with none, ~2% spam), daily score snapshots,
kecamatan roll-ups and check roll-ups for `--days` days, a week of raw checks, services,
visitor counters, integrity findings, and a few days of daily yardstick collections with
their newest facts on the village (scale_yardsticks.py; a kept store without them gets them
added, `--no-yardsticks` leaves them out). A generated store is kept and reused while its
row counts match (`--keep`, or the PostgreSQL database given).

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
import hashlib
import io
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.clock import wib_day, wib_day_start
from aggregator.decide.scoring import SERVICE_KINDS
from aggregator.decide.status import STATUSES
from aggregator.models import NEWS_FTS_TABLE
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web import create_app
from bench.scale_yardsticks import YARDSTICK_DAYS, add_yardsticks

PER_KECAMATAN = 12
KEC_PER_KAB = 14
CATEGORIES = (
    "Berita Desa", "Pengumuman", "Kegiatan", "Pembangunan", "Kesehatan", "Ekonomi",
    "Pendidikan", "Pertanian", "BUMDes", "Keuangan", "Sosial", "Budaya",
)  # fmt: skip
# Topic words with rough weights: "posyandu" lands in a few percent of the items.
TOPICS = (
    ("musyawarah desa", 8), ("posyandu", 5), ("jalan desa", 6), ("irigasi", 3),
    ("bumdes", 4), ("stunting", 3), ("apbdes", 4), ("budidaya lele", 1), ("gotong royong", 5),
    ("karang taruna", 3), ("pelatihan", 5), ("bantuan langsung tunai", 4), ("sosialisasi", 6),
    ("jembatan", 2), ("pemilihan kepala desa", 2), ("vaksinasi", 2), ("pkk", 4),
    ("ketahanan pangan", 3), ("embung", 1), ("rumah tidak layak huni", 2), ("sedekah bumi", 1),
    ("lomba desa", 2), ("penyaluran pupuk", 2), ("kerja bakti", 4), ("festival budaya", 1),
)  # fmt: skip
TOPIC_NAMES = [t for t, _ in TOPICS]
TOPIC_WEIGHTS = [w for _, w in TOPICS]
OPENINGS = ("Kegiatan", "Pelaksanaan", "Rapat", "Laporan", "Pengumuman", "Informasi", "Agenda")
FILLER = (
    "Pemerintah desa bersama warga melaksanakan kegiatan ini di balai desa.",
    "Kepala desa menyampaikan terima kasih atas partisipasi seluruh warga.",
    "Kegiatan dihadiri perangkat desa, BPD, dan tokoh masyarakat setempat.",
    "Dana kegiatan bersumber dari APBDes tahun anggaran berjalan.",
    "Warga diharapkan terus mendukung program pembangunan desa.",
    "Pendamping desa turut hadir memberikan arahan teknis.",
)
SPAM = ("Slot gacor maxwin hari ini", "Situs judi online terpercaya", "Bandar togel resmi")
SYLLABLES_A = (
    "Karang", "Sido", "Wono", "Kedung", "Tegal", "Banjar", "Sumber", "Suka", "Mekar",
    "Pasir", "Cibeber", "Tanjung", "Bukit", "Kali", "Rejo", "Jati", "Ngampel",
)  # fmt: skip
SYLLABLES_B = (
    "rejo", "mulyo", "sari", "jaya", "makmur", "agung", "asri", "harjo", "wangi",
    "manik", "anyar", "lor", "kidul", "wetan", "kulon", "raya", "indah",
)  # fmt: skip
# Share of villages per status (no_site villages are exactly those without a url).
STATUS_SHARE = (
    ("active", 0.45), ("low_activity", 0.17), ("inactive", 0.15), ("unreachable", 0.12),
    ("compromised", 0.03), ("no_site", 0.08),
)  # fmt: skip


SCORE_RANGE = {
    "active": (55, 98), "low_activity": (35, 70), "inactive": (5, 40),
    "unreachable": (0, 30), "compromised": (0, 40), "no_site": (0, 0),
}  # fmt: skip


def _fmt_dt(value: datetime) -> str:
    """SQLAlchemy's SQLite storage format for naive UTC datetimes."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Layout:
    """Codes and names of every kecamatan and village, and each village's status."""

    def __init__(self, villages: int, seed: int) -> None:
        rnd = random.Random(seed)
        self.kecamatan: list[tuple[str, str, str]] = []  # code, name, kabupaten code
        self.villages: list[dict[str, Any]] = []
        statuses = [s for s, _ in STATUS_SHARE]
        shares = [w for _, w in STATUS_SHARE]
        for k in range(-(-villages // PER_KECAMATAN)):
            kab = k // KEC_PER_KAB
            kab_code = f"{11 + kab // 30:02d}.{kab % 30 + 1:02d}"
            kcode = f"{kab_code}.{k % KEC_PER_KAB + 1:02d}"
            kname = rnd.choice(SYLLABLES_A) + rnd.choice(SYLLABLES_B)
            self.kecamatan.append((kcode, kname, kab_code))
            for i in range(min(PER_KECAMATAN, villages - k * PER_KECAMATAN)):
                status = rnd.choices(statuses, shares)[0]
                self.villages.append(
                    {
                        "code": f"{kcode}.{2001 + i}",
                        "kec": kcode,
                        "name": rnd.choice(SYLLABLES_A) + rnd.choice(SYLLABLES_B),
                        "status": status,
                        "url": "" if status == "no_site" else f"https://d{k}x{i}.desa.id/",
                        "platform": rnd.choice(("opensid", "opensid", "wordpress", "html")),
                    }
                )


class Generator:
    """Rows of every table as tuples of Python values, in bulk-insert order."""

    def __init__(self, layout: Layout, news: int, days: int, now: datetime, seed: int) -> None:
        self.layout = layout
        self.news = news
        self.days = days
        self.now = now
        self.seed = seed
        rnd = random.Random(seed + 1)
        # News per village: Pareto-like weights, none without a site, few when silent.
        weight = {"active": 1.0, "low_activity": 0.6, "inactive": 0.3, "unreachable": 0.5,
                  "compromised": 0.8, "no_site": 0.0}  # fmt: skip
        weights = [
            0.0 if rnd.random() < 0.1 else weight[v["status"]] * rnd.paretovariate(1.3)
            for v in layout.villages
        ]
        total = sum(weights) or 1.0
        counts = [int(w / total * news) for w in weights]
        short = news - sum(counts)
        order = sorted(range(len(counts)), key=lambda i: -weights[i])
        for i in order[: max(0, short)]:
            counts[i] += 1
        self.news_per_village = counts
        # Newest post per village follows its status.
        self.last_post: list[datetime | None] = []
        for v, n in zip(layout.villages, counts, strict=True):
            if n == 0:
                self.last_post.append(None)
                continue
            age = {"active": (0, 25), "low_activity": (31, 85), "inactive": (95, 600)}.get(
                v["status"], (0, 200)
            )
            self.last_post.append(now - timedelta(days=rnd.uniform(*age)))

    def kecamatan_rows(self) -> Iterator[tuple[Any, ...]]:
        for code, name, kab in self.layout.kecamatan:
            yield (code, name, kab, True)

    KECAMATAN_COLS = ("code", "name", "kabupaten_code", "in_config")
    VILLAGE_COLS = (
        "code", "kecamatan_code", "name", "type", "url", "platform", "detected_platform",
        "feed_url", "html_rules", "in_config", "next_check_at", "consecutive_failures",
        "consecutive_ok", "failing_since", "last_checked_at", "last_check_ok",
        "last_error_phase", "last_error_message", "last_success_at", "validators",
        "last_post_at", "posts_30d", "news_count", "status", "status_since", "score",
        "integrity_clean_streak", "kip_score", "security_score", "cert_alerted",
        "domain_alerted", "score_components", "scored_at",
    )  # fmt: skip

    def score_of(self, status: str, rnd: random.Random) -> float:
        lo, hi = SCORE_RANGE[status]
        return round(rnd.uniform(lo, hi), 1)

    def village_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 2)
        now = self.now
        for v, n, last in zip(
            self.layout.villages, self.news_per_village, self.last_post, strict=True
        ):
            st = v["status"]
            site = bool(v["url"])
            failing = st == "unreachable"
            failing_since = now - timedelta(days=rnd.uniform(1, 60)) if failing else None
            posts_30d = 0 if last is None or last < now - timedelta(days=30) else min(n, 40)
            yield (
                v["code"], v["kec"], v["name"], "desa", v["url"], v["platform"],
                v["platform"] if site else None, None, "", True,
                now + timedelta(minutes=rnd.randint(1, 1800)),
                rnd.randint(3, 40) if failing else 0, 0 if failing else rnd.randint(1, 50),
                failing_since, now - timedelta(minutes=rnd.randint(1, 60)) if site else None,
                (not failing) if site else None, "connect" if failing else None,
                "Connection refused" if failing else None,
                failing_since or (now - timedelta(hours=1) if site else None), "{}",
                last, posts_30d, n, st, now - timedelta(days=rnd.uniform(0, 80)),
                self.score_of(st, rnd), 0,
                round(rnd.uniform(10, 95), 1) if site else None,
                round(rnd.uniform(10, 95), 1) if site else None, 0, 0,
                '{"components": [], "penalty": null}', now,
            )  # fmt: skip

    NEWS_COLS = (
        "village_code", "dedup_key", "guid", "url", "title", "summary", "published_at",
        "category", "thumbnail", "first_seen", "content_hash", "is_spam",
    )  # fmt: skip

    def news_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 3)
        serial = 0
        for v, n, last in zip(
            self.layout.villages, self.news_per_village, self.last_post, strict=True
        ):
            if not n or last is None:
                continue
            topics = rnd.choices(TOPIC_NAMES, TOPIC_WEIGHTS, k=n)
            for j in range(n):
                serial += 1
                when = last - timedelta(minutes=rnd.randint(0, 720 * 24 * 60) if j else 0)
                url = f"{v['url']}index.php/artikel/{serial}"
                sha = hashlib.sha1(url.encode()).hexdigest()
                if rnd.random() < 0.02:
                    title, summary, spam = rnd.choice(SPAM), "Daftar sekarang bonus 100%", True
                else:
                    topic = topics[j]
                    title = f"{rnd.choice(OPENINGS)} {topic} Desa {v['name']} {when:%B %Y}"
                    summary = f"{topic.capitalize()} di Desa {v['name']}. " + " ".join(
                        rnd.sample(FILLER, 3)
                    )
                    spam = False
                yield (
                    v["code"], f"url:{sha}", url, url, title, summary, when,
                    rnd.choice(CATEGORIES), None, when + timedelta(hours=rnd.randint(1, 6)),
                    sha + sha[:24], spam,
                )  # fmt: skip

    SNAP_COLS = ("village_code", "day", "score", "status", "components")

    def score_snapshot_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 4)
        today = wib_day(self.now)
        for v in self.layout.villages:
            score = self.score_of(v["status"], rnd)
            status = v["status"]
            for d in range(self.days - 1, -1, -1):
                if rnd.random() < 0.03 and status != "no_site":  # occasional change
                    status = rnd.choice(("active", "low_activity", "inactive", "unreachable"))
                if d == 0:
                    status = v["status"]
                score = max(0.0, min(100.0, round(score + rnd.uniform(-2, 2), 1)))
                comp = f'{{"cadence":{score / 4:.1f},"recency":{score / 5:.1f}}}'
                yield (v["code"], today - timedelta(days=d), score, status, comp)

    KECSNAP_COLS = ("kecamatan_code", "day", "villages", "counts", "mean_score", "mean_kip",
                    "mean_security", "ready")  # fmt: skip

    def kecamatan_snapshot_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 5)
        today = wib_day(self.now)
        by_kec: dict[str, list[str]] = {}
        for v in self.layout.villages:
            by_kec.setdefault(v["kec"], []).append(v["status"])
        for code, statuses in by_kec.items():
            base = Counter(statuses)
            for d in range(self.days - 1, -1, -1):
                counts = dict(base)
                if d and rnd.random() < 0.3 and counts.get("active"):
                    counts["active"] -= 1
                    counts["inactive"] = counts.get("inactive", 0) + 1
                with_site = len(statuses) - counts.get("no_site", 0)
                yield (
                    code, today - timedelta(days=d), len(statuses),
                    json.dumps({s: counts.get(s, 0) for s in STATUSES}),
                    round(rnd.uniform(30, 80), 1), round(rnd.uniform(30, 80), 1),
                    round(rnd.uniform(30, 80), 1),
                    with_site > 0 and counts.get("active", 0) == with_site,
                )  # fmt: skip

    ROLLUP_COLS = ("village_code", "period", "start", "checks", "ok", "total_ms", "max_ms")

    def rollup_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 6)
        today = wib_day(self.now)
        for v in self.layout.villages:
            if not v["url"]:
                continue
            good = 0.2 if v["status"] == "unreachable" else 0.97
            for d in range(self.days - 1, -1, -1):
                day = today - timedelta(days=d)
                start = wib_day_start(day)
                n = rnd.randint(20, 48)
                ok = sum(rnd.random() < good for _ in range(4)) * n // 4
                yield (v["code"], "day", start, n, ok, n * rnd.randint(150, 900), 4000)

    CHECK_COLS = ("village_code", "started_at", "duration_ms", "ok", "phase", "status_code",
                  "message", "url", "bytes", "changed", "new_items")  # fmt: skip

    def check_rows(self, per_day: int) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 7)
        for v in self.layout.villages:
            if not v["url"]:
                continue
            failing = v["status"] == "unreachable"
            step = timedelta(hours=24 / per_day)
            for h in range(7 * per_day):
                ok = not failing or rnd.random() < 0.2
                yield (
                    v["code"], self.now - step * h - timedelta(minutes=rnd.randint(0, 30)),
                    rnd.randint(80, 1500), ok, None if ok else "connect",
                    200 if ok else None, None if ok else "Connection refused", v["url"],
                    rnd.randint(2000, 90000), rnd.random() < 0.1, 0,
                )  # fmt: skip

    SERVICE_COLS = ("village_code", "kind", "available", "count", "last_date", "url",
                    "checked_at")  # fmt: skip

    def service_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 8)
        for v in self.layout.villages:
            if v["platform"] != "opensid" or not v["url"]:
                continue
            for kind in SERVICE_KINDS:
                available = rnd.random() < 0.6
                yield (
                    v["code"], kind, available, rnd.randint(0, 80) if available else None,
                    self.now - timedelta(days=rnd.randint(0, 200)) if available else None,
                    f"{v['url']}{kind}" if available else None, self.now,
                )  # fmt: skip

    METRIC_COLS = ("village_code", "name", "value", "at")

    def metric_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 9)
        for v in self.layout.villages:
            if v["platform"] != "opensid" or not v["url"]:
                continue
            total = rnd.randint(1000, 90000)
            for d in range(13, -1, -1):
                total += rnd.randint(0, 120)
                yield (v["code"], "visitors_total", float(total), self.now - timedelta(days=d))

    FINDING_COLS = ("village_code", "kind", "url", "evidence", "first_seen", "last_seen",
                    "status", "level", "score", "signals")  # fmt: skip

    def finding_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 10)
        for v in self.layout.villages:
            if v["status"] != "compromised":
                continue
            for _ in range(rnd.randint(1, 4)):
                seen = self.now - timedelta(days=rnd.uniform(1, 30))
                yield (
                    v["code"], "judi_online", f"{v['url']}artikel/slot", "slot gacor", seen,
                    self.now, "open", "compromised", 90, "judol_words",
                )  # fmt: skip


# -- loading ------------------------------------------------------------------------------


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = 20_000) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _fmt_dt(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _pg_text(value: Any) -> str:
    """One COPY text-format field."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    s = str(value)
    if any(c in s for c in "\\\t\n\r"):
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


class Loader:
    """Bulk insert into one store; secondary indexes of big tables dropped while loading."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.engine.dialect.name == "sqlite"

    def load(self, table: str, cols: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> int:
        n = 0
        raw = self.store.engine.raw_connection()
        try:
            cur = raw.cursor()
            quoted = ", ".join(f'"{c}"' for c in cols)
            if self.sqlite:
                sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
                for chunk in _chunks(rows):
                    cur.executemany(sql, [tuple(map(_sqlite_value, r)) for r in chunk])
                    n += len(chunk)
            else:
                with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:  # type: ignore[attr-defined]
                    for chunk in _chunks(rows):
                        buf = io.StringIO()
                        for r in chunk:
                            buf.write("\t".join(map(_pg_text, r)))
                            buf.write("\n")
                        copy.write(buf.getvalue())
                        n += len(chunk)
            raw.commit()
        finally:
            raw.close()
        return n

    def drop_secondary(self, table: str) -> list[str]:
        """Drop indexes (not constraints) and triggers of `table`; return how to recreate."""
        with self.store.engine.begin() as conn:
            if self.sqlite:
                rows = conn.execute(
                    text(
                        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t "
                        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
                    ),
                    {"t": table},
                ).all()
                for kind, name, _ in rows:
                    conn.execute(text(f'DROP {kind.upper()} "{name}"'))
                return [sql for _, _, sql in rows]
            rows = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                ),
                {"t": table},
            ).all()
            for name, _ in rows:
                conn.execute(text(f'DROP INDEX "{name}"'))
            return [sql for _, sql in rows]

    def recreate(self, ddl: list[str]) -> None:
        with self.store.engine.begin() as conn:
            for sql in ddl:
                conn.execute(text(sql))


def generate(
    store: Store, gen: Generator, checks_per_day: int, yardsticks: bool = True
) -> dict[str, float]:
    loader = Loader(store)
    times: dict[str, float] = {}
    plan = [
        ("kecamatan", gen.KECAMATAN_COLS, gen.kecamatan_rows()),
        ("village", gen.VILLAGE_COLS, gen.village_rows()),
        ("newsitem", gen.NEWS_COLS, gen.news_rows()),
        ("scoresnapshot", gen.SNAP_COLS, gen.score_snapshot_rows()),
        ("kecamatansnapshot", gen.KECSNAP_COLS, gen.kecamatan_snapshot_rows()),
        ("checkrollup", gen.ROLLUP_COLS, gen.rollup_rows()),
        ("check", gen.CHECK_COLS, gen.check_rows(checks_per_day)),
        ("service", gen.SERVICE_COLS, gen.service_rows()),
        ("metricsample", gen.METRIC_COLS, gen.metric_rows()),
        ("finding", gen.FINDING_COLS, gen.finding_rows()),
    ]
    for table, cols, rows in plan:
        t0 = time.perf_counter()
        ddl = loader.drop_secondary(table) if table in ("newsitem", "check") else []
        n = loader.load(table, cols, rows)
        loader.recreate(ddl)
        if table == "newsitem" and loader.sqlite:  # the triggers were off during the load
            with store.engine.begin() as conn:
                fts = NEWS_FTS_TABLE
                conn.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))
        times[table] = round(time.perf_counter() - t0, 1)
        print(f"  {table:<18} {n:>10,} rows in {times[table]:>6.1f} s", file=sys.stderr)
    if yardsticks:
        times["yardstickcheck"] = top_up_yardsticks(store, loader, gen.now, gen.seed)
    t0 = time.perf_counter()
    analyze(store)
    times["analyze"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    store.refresh_summary()  # the village rows were marked by the triggers while loading
    store.rewrite_district_history()  # the kecamatan roll-ups were loaded in bulk
    times["summary"] = round(time.perf_counter() - t0, 1)
    return times


def top_up_yardsticks(store: Store, loader: Loader, now: datetime, seed: int) -> float:
    """YARDSTICK_DAYS of daily collections per village (a kept store gets them too)."""
    t0 = time.perf_counter()
    n = add_yardsticks(store, loader, now, seed)
    took = round(time.perf_counter() - t0, 1)
    print(f"  {'yardstickcheck':<18} {n:>10,} rows in {took:>6.1f} s", file=sys.stderr)
    return took


def has_yardsticks(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM yardstickcheck LIMIT 1")).first() is not None


def analyze(store: Store) -> None:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        conn.commit()


def counts_of(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            "villages": int(conn.execute(text("SELECT count(*) FROM village")).scalar_one()),
            "news": int(conn.execute(text("SELECT count(*) FROM newsitem")).scalar_one()),
            "days": int(
                conn.execute(text("SELECT count(DISTINCT day) FROM kecamatansnapshot")).scalar_one()
            ),
        }


def reset_pg(url: str) -> None:
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.close()


def store_size(store: Store) -> int:
    url = make_url(store.url)
    if store.engine.dialect.name == "sqlite":
        path = Path(str(url.database))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


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
    store = Store(url, Settings())
    fresh = args.regenerate
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
    results = asyncio.run(measure(store, paths, args.requests))
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
        "results": results,
        "over_budget": failed,
    }
    print(json.dumps(summary, ensure_ascii=False))
    made = f"generated in {gen_s:.0f} s" if gen_s is not None else "kept store reused"
    print(
        f"\n{args.villages:,} villages, {args.news:,} news, {args.days} days, "
        f"{args.requests} requests per row ({summary['database']}, {made}, "
        f"{size / 1e6:,.0f} MB)"
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
