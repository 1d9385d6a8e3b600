"""Daily history: a village's and a kecamatan's snapshots, and the kabupaten's counts per
status summed over the kecamatan roll-ups: stored a row a day in DistrictSnapshot, rewritten
with the day's roll-ups (the scoring run), when the kecamatan in the config change (config
sync) and pruned with them.

A read of the daily snapshots goes here; they are written by `aggregator.store.scores`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, case, cast, delete, func, insert
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col, select

from aggregator.clock import as_date, wib_day
from aggregator.decide.status import STATUSES
from aggregator.models import (
    CheckRollup,
    DistrictSnapshot,
    Kecamatan,
    KecamatanSnapshot,
    ScoreSnapshot,
)
from aggregator.store.base import StoreBase

# DistrictSnapshot's columns, in the order of `history_query`'s.
_DISTRICT_COLUMNS = (
    "day", "villages", "ready", "reconstructed", *[f"n_{st}" for st in STATUSES],
    "score_sum", "score_weight",
    "kip_sum", "kip_weight", "security_sum", "security_weight",
)  # fmt: skip


def history_query(dialect: str, first_day: date | None = None) -> Any:
    """Per day: villages, ready kecamatan, counts per status and village-weighted means of
    the kecamatan in the config, summed in the database (630,000 roll-ups for 90 days of
    7,000 kecamatan)."""
    k = KecamatanSnapshot
    if dialect == "postgresql":
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
            # Any of the day's kecamatan rows reconstructed from news archives.
            func.max(case((col(k.reconstructed), 1), else_=0)) > 0,
            *[func.sum(count_of(st)) for st in STATUSES],
            *weighted(col(k.mean_score)),
            *weighted(col(k.mean_kip)),
            *weighted(col(k.mean_security)),
        )
        .join(Kecamatan, col(Kecamatan.code) == col(k.kecamatan_code))
        .where(col(Kecamatan.in_config))
        .group_by(col(k.day))
    )
    return query if first_day is None else query.where(col(k.day) >= first_day)


def rewrite_district_days(conn: Connection, days: Sequence[date] | None = None) -> None:
    """Sum the kecamatan roll-ups of `days` (or of every day) into DistrictSnapshot again:
    after the roll-ups of a day are written, and when the kecamatan in the config change."""
    d = DistrictSnapshot
    gone = delete(d)
    sums = history_query(conn.dialect.name)
    if days is not None:
        gone = gone.where(col(d.day).in_(list(days)))
        sums = sums.where(col(KecamatanSnapshot.day).in_(list(days)))
    conn.execute(gone)
    conn.execute(insert(d).from_select(list(_DISTRICT_COLUMNS), sums))


class History(StoreBase):
    """Reads of the daily snapshots."""

    def rewrite_district_history(self) -> None:
        """Sum every day's kecamatan roll-ups again (after a bulk load of roll-ups)."""
        with self._write_lock, self.engine.begin() as conn:
            rewrite_district_days(conn)

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
        """Daily village counts per status summed over kecamatan (or one), from `first_day`:
        for the kabupaten, the stored day totals (`DistrictSnapshot`, one row a day)."""
        with Session(self.engine) as s:
            conn = s.connection()
            if kecamatan:
                query = history_query(conn.dialect.name, first_day).where(
                    col(KecamatanSnapshot.kecamatan_code) == kecamatan
                )
                rows = conn.execute(query).all()
            else:
                d = DistrictSnapshot
                rows = conn.execute(
                    sa_select(*[getattr(d, c) for c in _DISTRICT_COLUMNS]).where(
                        col(d.day) >= first_day
                    )
                ).all()
        return sorted((self._history_entry(r) for r in rows), key=lambda e: e["day"])
