"""History from day one: on a village's first poll its past year of daily snapshots is
reconstructed from its news archive (`aggregator.decide.past` judges each day), marked
`reconstructed`, and its kecamatan's past rows are rebuilt from the village rows. A
measured snapshot is never overwritten; the scoring run's measured snapshot of a day
replaces a reconstructed one.

A query of the reconstruction goes here; reads of the rows it writes go to
`aggregator.store.history`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, and_, case, cast, delete, func, insert, text, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from aggregator.clock import WIB_OFFSET, as_date, wib_day, wib_day_start
from aggregator.decide.past import RECONSTRUCT_DAYS, ArchiveDay, past_days
from aggregator.decide.status import STATUSES, is_ready
from aggregator.models import DistrictStale, KecamatanSnapshot, NewsItem, ScoreSnapshot, Village
from aggregator.store.base import StoreBase


class Reconstruction(StoreBase):
    """The past year of first-polled villages and their kecamatan."""

    def reconstruct_history(self, codes: Sequence[str], now: datetime) -> int:
        """Reconstruct the RECONSTRUCT_DAYS before today of the villages of `codes` (those
        with a site; days before their first post are left out) and rebuild the rows of
        those days of their kecamatan that have no village with a site left to poll for the
        first time. Returns the village rows written.

        A kecamatan's past is rebuilt once its last village has had its first poll, not
        after every batch: a first pass wrote each kecamatan's year again for every batch
        that held one of its villages (a quarter of the writer's work on a first pass)."""
        today = wib_day(now)
        first, last = today - timedelta(days=RECONSTRUCT_DAYS), today - timedelta(days=1)
        with self._write_lock, Session(self.engine) as s:
            if self.engine.dialect.name == "postgresql":
                # Workers reconstructing villages of one kecamatan rebuild the same kecamatan
                # rows: one at a time (a transaction-scoped advisory lock).
                s.connection().execute(text("SELECT pg_advisory_xact_lock(727172)"))
            villages = s.exec(
                select(Village).where(col(Village.code).in_(list(codes)), col(Village.in_config))
            ).all()
            sited = [v.code for v in villages if v.url]
            if not sited:
                return 0
            written = self._village_rows(s, sited, first, last, wib_day_start(today))
            complete = self._first_polled_through(s, {v.kecamatan_code for v in villages})
            if complete:
                self._kecamatan_rows(s, complete, first, last)
            if written or complete:
                self._mark_district_stale(s, first, last)
            s.commit()
        return written

    @staticmethod
    def _first_polled_through(s: Session, kecamatan: set[str]) -> set[str]:
        """The kecamatan of `kecamatan` whose villages with a site have all been polled."""
        waiting = set(
            s.exec(
                select(Village.kecamatan_code)
                .where(col(Village.kecamatan_code).in_(list(kecamatan)), col(Village.in_config))
                .where(col(Village.url).is_not(None), col(Village.url) != "")
                .where(col(Village.last_checked_at).is_(None))
                .distinct()
            ).all()
        )
        return kecamatan - waiting

    def _archive_day(self) -> Any:
        """SQL of a news item's WIB publication day (a date, or ISO text on SQLite)."""
        published = col(NewsItem.published_at)
        if self.engine.dialect.name == "postgresql":
            local = type_coerce(func.timezone("UTC", published), DateTime) + WIB_OFFSET
            return cast(local, Date)
        hours = int(WIB_OFFSET.total_seconds() // 3600)
        return func.date(published, f"+{hours} hours")

    def _village_rows(
        self, s: Session, codes: list[str], first: date, last: date, before: datetime
    ) -> int:
        day = self._archive_day()
        archives: dict[str, list[ArchiveDay]] = defaultdict(list)
        # One grouped query over the villages' own news (their index: code, spam, date).
        for code, on, posts, newest in s.exec(
            select(NewsItem.village_code, day, func.count(), func.max(NewsItem.published_at))
            .where(col(NewsItem.village_code).in_(codes), ~col(NewsItem.is_spam))
            .where(col(NewsItem.published_at) < before)
            .group_by(NewsItem.village_code, day)
            .order_by(NewsItem.village_code, day)
        ).all():
            if newest is not None:
                archives[code].append(ArchiveDay(as_date(on), int(posts), newest))
        if not archives:
            return 0
        snap = ScoreSnapshot
        in_range = and_(
            col(snap.village_code).in_(list(archives)),
            col(snap.day) >= first,
            col(snap.day) <= last,
        )
        measured = {
            (code, as_date(on))
            for code, on in s.exec(
                select(col(snap.village_code), col(snap.day)).where(
                    in_range, ~col(snap.reconstructed)
                )
            ).all()
        }
        conn = s.connection()
        conn.execute(delete(snap).where(in_range, col(snap.reconstructed)))
        dumped: dict[tuple[tuple[str, float], ...], str] = {}  # few distinct components

        def as_json(components: dict[str, float]) -> str:
            key = tuple(components.items())
            if key not in dumped:
                dumped[key] = json.dumps(components, separators=(",", ":"))
            return dumped[key]

        rows = [
            {
                "village_code": code,
                "day": past.day,
                "score": past.score,
                "status": past.status,
                "components": as_json(past.components),
                "reconstructed": True,
            }
            for code, archive in archives.items()
            for past in past_days(archive, first, last, self.settings)
            if (code, past.day) not in measured
        ]
        if rows:
            conn.execute(insert(snap), rows)
        return len(rows)

    def _mark_district_stale(self, s: Session, first: date, last: date) -> None:
        """The kabupaten's day totals of these days are summed again by the next scoring run.
        Until that run, every later batch of a first pass marks the same year: one count
        spares it the 365-row insert."""
        n = (last - first).days + 1
        marked = s.exec(
            select(func.count()).where(
                col(DistrictStale.day) >= first, col(DistrictStale.day) <= last
            )
        ).one()
        if marked >= n:
            return
        days = [{"day": first + timedelta(days=i)} for i in range(n)]
        s.connection().execute(self._insert(DistrictStale).on_conflict_do_nothing(), days)

    @staticmethod
    def _kecamatan_rows(s: Session, kecamatan: set[str], first: date, last: date) -> None:
        """Each past day of `kecamatan` without a measured row, from its village rows
        (SQL aggregates per kecamatan, day and status). A village without a site counts as
        such; one with a site but no row that day (its archive starts later) is unknown."""
        k, snap = KecamatanSnapshot, ScoreSnapshot
        in_range = and_(
            col(k.kecamatan_code).in_(list(kecamatan)), col(k.day) >= first, col(k.day) <= last
        )
        measured = {
            (code, as_date(on))
            for code, on in s.exec(
                select(col(k.kecamatan_code), col(k.day)).where(in_range, ~col(k.reconstructed))
            ).all()
        }
        has_site = and_(col(Village.url).is_not(None), col(Village.url) != "")
        sizes = {
            code: (int(n), int(sited or 0))
            for code, n, sited in s.exec(
                select(Village.kecamatan_code, func.count(), func.sum(case((has_site, 1), else_=0)))
                .where(col(Village.in_config), col(Village.kecamatan_code).in_(list(kecamatan)))
                .group_by(Village.kecamatan_code)
            ).all()
        }
        per_day: dict[tuple[str, date], tuple[Counter[str], list[float]]] = defaultdict(
            lambda: (Counter(), [0.0, 0.0])
        )
        for code, on, status, n, total, scored in (
            s.connection()
            .execute(
                sa_select(
                    col(Village.kecamatan_code),
                    col(snap.day),
                    col(snap.status),
                    func.count(),
                    func.sum(col(snap.score)),
                    func.count(col(snap.score)),
                )
                .join(Village, col(Village.code) == col(snap.village_code))
                .where(col(Village.in_config), col(Village.kecamatan_code).in_(list(kecamatan)))
                .where(col(snap.day) >= first, col(snap.day) <= last)
                .group_by(col(Village.kecamatan_code), col(snap.day), col(snap.status))
            )
            .all()
        ):
            counts, score = per_day[(code, as_date(on))]
            counts[status] += int(n)
            score[0] += float(total or 0.0)
            score[1] += float(scored)
        s.connection().execute(delete(k).where(in_range, col(k.reconstructed)))
        rows = []
        for (code, on), (counts, (score_sum, score_n)) in sorted(per_day.items()):
            if (code, on) in measured or code not in sizes:
                continue
            villages, sited = sizes[code]
            counts["no_site"] += villages - sited
            rows.append(
                {
                    "kecamatan_code": code,
                    "day": on,
                    "villages": villages,
                    "counts": json.dumps({st: counts.get(st, 0) for st in STATUSES}),
                    "mean_score": round(score_sum / score_n, 1) if score_n else None,
                    "mean_kip": None,
                    "mean_security": None,
                    "ready": is_ready(sited, counts.get("active", 0)),
                    "reconstructed": True,
                }
            )
        if rows:
            s.connection().execute(insert(k), rows)
