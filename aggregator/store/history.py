"""Daily history: a village's and a kecamatan's snapshots (each marked `reconstructed` when
read from a news archive rather than measured), and the kabupaten's counts per
status summed over the kecamatan roll-ups (kept in memory for the days that no longer
change).

A read of the daily snapshots goes here; they are written by `aggregator.store.scores`.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, cast, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col, select

from aggregator.clock import as_date, wib_day
from aggregator.decide.status import STATUSES
from aggregator.models import CheckRollup, Kecamatan, KecamatanSnapshot, ScoreSnapshot
from aggregator.settings import Settings
from aggregator.store.base import DEFAULT_DATABASE_URL, StoreBase


class History(StoreBase):
    """Reads of the daily snapshots, with the kabupaten history's cache."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, settings: Settings | None = None):
        super().__init__(url, settings)
        # The kabupaten's past days, under (first day, newest day, newest id).
        self._history_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._history_lock = threading.Lock()

    def village_history(self, code: str, days: int, now: datetime) -> list[dict[str, Any]]:
        """Daily snapshots (score, status, component points) with that day's uptime."""
        first = wib_day(now) - timedelta(days=days - 1)
        with Session(self.engine) as s:
            snaps = s.exec(
                select(ScoreSnapshot)
                .where(ScoreSnapshot.village_code == code, col(ScoreSnapshot.day) >= first)
                .order_by(col(ScoreSnapshot.day))
            ).all()
            rollups = {
                wib_day(r.start): r
                for r in s.exec(
                    select(CheckRollup).where(
                        CheckRollup.village_code == code, CheckRollup.period == "day"
                    )
                ).all()
                if r.start is not None
            }
        out = []
        for sn in snaps:
            r = rollups.get(sn.day)
            out.append(
                {
                    "day": sn.day.isoformat(),
                    "score": sn.score,
                    "status": sn.status,
                    "components": json.loads(sn.components or "{}"),
                    "checks": r.checks if r else None,
                    "uptime": round(r.ok / r.checks, 3) if r and r.checks else None,
                    "mean_response_ms": round(r.total_ms / r.checks) if r and r.checks else None,
                    "reconstructed": sn.reconstructed,
                }
            )
        return out

    def kecamatan_history(self, code: str, days: int, now: datetime) -> list[dict[str, Any]]:
        first = wib_day(now) - timedelta(days=days - 1)
        with Session(self.engine) as s:
            rows = s.exec(
                select(KecamatanSnapshot)
                .where(
                    KecamatanSnapshot.kecamatan_code == code, col(KecamatanSnapshot.day) >= first
                )
                .order_by(col(KecamatanSnapshot.day))
            ).all()
        return [
            {
                "day": r.day.isoformat(),
                "villages": r.villages,
                "counts": json.loads(r.counts),
                "mean_score": r.mean_score,
                "ready": r.ready,
                "reconstructed": r.reconstructed,
            }
            for r in rows
        ]

    def _history_query(self, first_day: date, last_day: date | None, kecamatan: str | None) -> Any:
        """Per day: villages, ready kecamatan, counts per status and village-weighted
        means, summed in the database (630,000 roll-ups for 90 days of 7,000 kecamatan)."""
        k = KecamatanSnapshot
        if self.engine.dialect.name == "postgresql":
            counts = cast(col(k.counts), JSONB)

            def count_of(status: str) -> Any:
                return func.coalesce(cast(counts[status].astext, Integer), 0)

        else:

            def count_of(status: str) -> Any:
                return func.coalesce(func.json_extract(col(k.counts), f"$.{status}"), 0)

        def weighted(column: Any) -> tuple[Any, Any]:
            known = case((column.is_not(None), col(k.villages)), else_=0)
            return func.sum(column * col(k.villages)), func.sum(known)

        query = (
            sa_select(
                col(k.day),
                func.sum(col(k.villages)),
                func.sum(case((col(k.ready), 1), else_=0)),
                func.max(case((col(k.reconstructed), 1), else_=0)),
                *[func.sum(count_of(st)) for st in STATUSES],
                *weighted(col(k.mean_score)),
                *weighted(col(k.mean_kip)),
                *weighted(col(k.mean_security)),
            )
            .join(Kecamatan, col(Kecamatan.code) == col(k.kecamatan_code))
            .where(col(Kecamatan.in_config), col(k.day) >= first_day)
            .group_by(col(k.day))
        )
        if last_day is not None:
            query = query.where(col(k.day) < last_day)
        if kecamatan:
            query = query.where(col(k.kecamatan_code) == kecamatan)
        return query

    @staticmethod
    def _history_entry(row: Any) -> dict[str, Any]:
        day, villages, ready, reconstructed, *rest = row
        counts = {st: int(n or 0) for st, n in zip(STATUSES, rest, strict=False)}
        means = rest[len(STATUSES) :]
        out: dict[str, Any] = {
            "day": as_date(day).isoformat(),
            "villages": int(villages or 0),
            "counts": counts,
            "ready": int(ready or 0),
            # Any of the day's kecamatan rows reconstructed from news archives.
            "reconstructed": bool(reconstructed),
        }
        for i, key in enumerate(("mean_score", "mean_kip", "mean_security")):
            total, weight = means[2 * i], means[2 * i + 1]
            out[key] = round(float(total) / int(weight), 1) if weight else None
        return out

    def district_history(
        self, first_day: date, *, kecamatan: str | None = None
    ) -> list[dict[str, Any]]:
        """Daily village counts per status summed over kecamatan (or one), from `first_day`.

        Days before the newest are only written once (the scoring run rewrites today's
        roll-ups), so for the whole kabupaten they are kept in memory while the table's
        newest day and highest id stay the same; the newest day is always read afresh."""
        with Session(self.engine) as s:
            conn = s.connection()
            if kecamatan:
                rows = conn.execute(self._history_query(first_day, None, kecamatan)).all()
                return sorted((self._history_entry(r) for r in rows), key=lambda e: e["day"])
            k = KecamatanSnapshot
            # Two queries: each maximum is then one step down its index.
            newest = conn.execute(sa_select(func.max(col(k.day)))).scalar_one()
            top = conn.execute(sa_select(func.max(col(k.id)))).scalar_one()
            if newest is None:
                return []
            newest = as_date(newest)
            key = (first_day, newest, top)
            cache = self._history_cache
            past = cache.get(key)
            if past is None:
                rows = conn.execute(self._history_query(first_day, newest, None)).all()
                past = [self._history_entry(r) for r in rows]
                with self._history_lock:
                    # One entry per first day (the pages' periods) of the current table.
                    for old in [k for k in cache if k[1:] != key[1:]]:
                        del cache[old]
                    cache[key] = past
            today = conn.execute(
                self._history_query(max(first_day, newest), None, None).where(col(k.day) == newest)
            ).all()
        return sorted([*past, *map(self._history_entry, today)], key=lambda e: e["day"])
