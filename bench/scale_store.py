"""Loading bench_scale.py's national store: the generated rows (scale_rows.py) go in with
bulk inserts straight into the migrated tables (executemany on SQLite, COPY on PostgreSQL;
the news table's secondary indexes, triggers and full-text index are dropped during the
load and rebuilt after it), then a few days of daily yardstick collections
(scale_yardsticks.py), statistics and the summary tables.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from aggregator.models import NEWS_FTS_TABLE
from aggregator.store import Store
from bench.scale_rows import Generator, fmt_dt
from bench.scale_yardsticks import add_yardsticks


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
        return fmt_dt(value)
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
    """An empty schema in the database of `url`, the database created if it is missing."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
        if exists is None:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
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
