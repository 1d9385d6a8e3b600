"""The scoring run and check roll-ups: facts for every village gathered with a handful of
grouped queries, scored by the pure `aggregator.decide.scoring`, statuses re-derived by
`aggregator.decide.status.status_of` (as every poll does), written with a daily snapshot per
village and per kecamatan; raw checks rolled up per hour and WIB day, and old history
pruned.

A query of the periodic scoring, roll-up or retention jobs goes here; reads of the
history they write go to `aggregator.store.history`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, true
from sqlmodel import Session, col, select

from aggregator.clock import as_date, wib_day, wib_day_start
from aggregator.decide.scoring import (
    Score,
    VillageFacts,
    score_village,
    service_state,
    visitors_per_day,
)
from aggregator.decide.status import STATUSES, is_ready
from aggregator.models import (
    Check,
    CheckRollup,
    DistrictSnapshot,
    DistrictStale,
    KecamatanSnapshot,
    MetricSample,
    NewsItem,
    ScoreSnapshot,
    Service,
    Village,
)
from aggregator.store.derived import apply_status, compromised_counts, legit_news, recent_news
from aggregator.store.history import rewrite_district_days
from aggregator.store.summary import SummaryWriter, refresh_summary

# What the scoring run knows of one village: its scoring facts, its newest post that counts
# as activity and its number of open compromised findings (the status's facts).
Gathered = tuple[VillageFacts, datetime | None, int]


class Scores(SummaryWriter):
    """The scoring run, roll-ups and retention."""

    def _facts(
        self, s: Session, now: datetime, codes: Sequence[str] | None = None
    ) -> dict[str, Gathered]:
        """Every village's facts, or those of `codes` only."""

        def only(column: Any) -> Any:
            return col(column).in_(list(codes)) if codes is not None else true()

        sc = self.settings.scoring
        legit = legit_news(now)
        posts = dict(
            s.exec(
                select(NewsItem.village_code, func.count())
                .where(recent_news(now), only(NewsItem.village_code))
                .group_by(NewsItem.village_code)
            ).all()
        )
        last_post = dict(
            s.exec(
                select(NewsItem.village_code, func.max(NewsItem.published_at))
                .where(legit, only(NewsItem.village_code))
                .group_by(NewsItem.village_code)
            ).all()
        )
        since = now - timedelta(days=sc.availability_days)
        checks = {
            code: (int(n), int(ok or 0))
            for code, n, ok in s.exec(
                select(
                    Check.village_code, func.count(), func.sum(case((col(Check.ok), 1), else_=0))
                )
                .where(col(Check.started_at) >= since, col(Check.started_at) <= now)
                .where(or_(col(Check.phase).is_(None), col(Check.phase) != "offline"))
                .where(only(Check.village_code))
                .group_by(Check.village_code)
            ).all()
        }
        services: dict[str, dict[str, bool]] = defaultdict(dict)
        for sv in s.exec(select(Service).where(only(Service.village_code))).all():
            state = service_state(sv.available, sv.count, sv.last_date, now, sv.error)
            services[sv.village_code][sv.kind] = state == "berisi"
        visitors: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for code, at, value in s.exec(
            select(MetricSample.village_code, MetricSample.at, MetricSample.value).where(
                MetricSample.name == "visitors_total",
                col(MetricSample.at) >= now - timedelta(days=7),
                col(MetricSample.at) <= now,
                only(MetricSample.village_code),
            )
        ).all():
            if at is not None:
                visitors[code].append((at, value))
        findings = compromised_counts(s)
        facts: dict[str, Gathered] = {}
        for v in s.exec(select(Village).where(col(Village.in_config), only(Village.code))).all():
            last = last_post.get(v.code)
            n, ok = checks.get(v.code, (0, 0))
            compromised = findings.get(v.code, 0)
            scoring = VillageFacts(
                has_site=bool(v.url),
                compromised=compromised > 0,
                days_since_post=(now - last).total_seconds() / 86400 if last else None,
                posts_30d=int(posts.get(v.code, 0)),
                checks=n,
                checks_ok=ok,
                services=services.get(v.code, {}),
                visitors_per_day=visitors_per_day(visitors.get(v.code, [])),
            )
            facts[v.code] = (scoring, last, compromised)
        return facts

    def score_all(self, now: datetime) -> int:
        """Score and re-derive the status of every village; write today's snapshots."""
        day = wib_day(now)
        with self._write_lock, Session(self.engine) as s:
            facts = self._facts(s, now)
            villages = s.exec(select(Village).where(col(Village.in_config))).all()
            snaps = {
                sn.village_code: sn
                for sn in s.exec(select(ScoreSnapshot).where(ScoreSnapshot.day == day)).all()
            }
            per_kec: dict[str, list[Village]] = defaultdict(list)
            for v in villages:
                result = self._score(v, facts[v.code], now)
                s.add(v)
                snap = snaps.get(v.code) or ScoreSnapshot(village_code=v.code, day=day, status="")
                snap.score, snap.status = v.score, v.status
                snap.reconstructed = False  # a measured day replaces a reconstructed one
                snap.components = json.dumps(
                    {c.key: c.points for c in result.components}, separators=(",", ":")
                )
                s.add(snap)
                per_kec[v.kecamatan_code].append(v)
            self._snapshot_kecamatan(s, day, per_kec)
            s.flush()
            stale = [as_date(d) for d in s.exec(select(col(DistrictStale.day))).all()]
            rewrite_district_days(s.connection(), sorted({day, *stale}))
            if stale:
                s.connection().execute(delete(DistrictStale))
            s.commit()
            refresh_summary(self.engine)
        return len(villages)

    def _score(self, v: Village, gathered: Gathered, now: datetime) -> Score:
        """Write one village's score, components and status from its facts."""
        f, last_post, compromised = gathered
        result = score_village(f, self.settings.scoring)
        v.last_post_at, v.posts_30d = last_post, f.posts_30d
        apply_status(v, last_post, compromised, now, self.settings)
        v.score = result.score if f.has_site else 0.0
        v.score_components = json.dumps(result.as_json(), ensure_ascii=False)
        v.scored_at = now
        return result

    def score_first_polls(self, codes: Sequence[str], now: datetime) -> int:
        """Villages of `codes` never scored yet get their status and score at once, from
        their first poll's results: the overview never shows "–" for a polled village. The
        periodic run (score_all) takes over from then on and writes the daily snapshots."""
        if not codes:
            return 0
        with self._write_lock, Session(self.engine) as s:
            todo = s.exec(
                select(Village).where(
                    col(Village.code).in_(list(codes)),
                    col(Village.scored_at).is_(None),
                    col(Village.last_checked_at).is_not(None),
                    col(Village.in_config),
                )
            ).all()
            if not todo:
                return 0
            facts = self._facts(s, now, [v.code for v in todo])
            for v in todo:
                self._score(v, facts[v.code], now)
                s.add(v)
            s.commit()
            self.refresh_summary_now_and_then()
        return len(todo)

    @staticmethod
    def _snapshot_kecamatan(s: Session, day: date, per_kec: dict[str, list[Village]]) -> None:
        existing = {
            k.kecamatan_code: k
            for k in s.exec(select(KecamatanSnapshot).where(KecamatanSnapshot.day == day)).all()
        }
        for code, villages in per_kec.items():
            counts = Counter(v.status for v in villages)
            with_site = [v for v in villages if v.url]
            scores = [v.score for v in with_site if v.score is not None]
            snap = existing.get(code) or KecamatanSnapshot(kecamatan_code=code, day=day)
            snap.villages = len(villages)
            snap.counts = json.dumps({st: counts.get(st, 0) for st in STATUSES})
            snap.mean_score = round(sum(scores) / len(scores), 1) if scores else None
            kips = [v.kip_score for v in with_site if v.kip_score is not None]
            secs = [v.security_score for v in with_site if v.security_score is not None]
            snap.mean_kip = round(sum(kips) / len(kips), 1) if kips else None
            snap.mean_security = round(sum(secs) / len(secs), 1) if secs else None
            snap.ready = is_ready(len(with_site), sum(v.status == "active" for v in with_site))
            snap.reconstructed = False
            s.add(snap)

    def rollup_checks(self, now: datetime) -> int:
        """Aggregate raw checks of the last two days into hourly and daily rows (idempotent)."""
        # Whole WIB days only, so a day's roll-up is always computed from all of its checks.
        since = wib_day_start(wib_day(now) - timedelta(days=2))
        with self._write_lock, Session(self.engine) as s:
            rows = s.exec(
                select(Check.village_code, Check.started_at, Check.ok, Check.duration_ms)
                .where(col(Check.started_at) >= since)
                .where(or_(col(Check.phase).is_(None), col(Check.phase) != "offline"))
            ).all()
            buckets: dict[tuple[str, str, datetime], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for code, started, ok, ms in rows:
                if started is None:
                    continue
                hour = started.replace(minute=0, second=0, microsecond=0)
                day_start = wib_day_start(wib_day(started))
                for key in ((code, "hour", hour), (code, "day", day_start)):
                    b = buckets[key]
                    b[0] += 1
                    b[1] += int(bool(ok))
                    b[2] += int(ms)
                    b[3] = max(b[3], int(ms))
            existing = {
                (r.village_code, r.period, r.start): r
                for r in s.exec(select(CheckRollup).where(col(CheckRollup.start) >= since)).all()
            }
            for (code, period, start), (n, good, total, peak) in buckets.items():
                row = existing.get((code, period, start)) or CheckRollup(
                    village_code=code, period=period, start=start
                )
                row.checks, row.ok, row.total_ms, row.max_ms = n, good, total, peak
                s.add(row)
            s.commit()
        return len(buckets)

    def prune_history(self, now: datetime) -> None:
        """Keep raw checks for keep_checks_days, hourly roll-ups 90 days, daily history 2 years."""
        keep = timedelta(days=self.settings.keep_history_days)
        with self._write_lock, Session(self.engine) as s:
            conn = s.connection()
            conn.execute(
                delete(Check).where(
                    col(Check.started_at) < now - timedelta(days=self.settings.keep_checks_days)
                )
            )
            conn.execute(
                delete(CheckRollup).where(
                    col(CheckRollup.period) == "hour",
                    col(CheckRollup.start) < now - timedelta(days=90),
                )
            )
            conn.execute(delete(CheckRollup).where(col(CheckRollup.start) < now - keep))
            conn.execute(delete(ScoreSnapshot).where(col(ScoreSnapshot.day) < wib_day(now - keep)))
            conn.execute(
                delete(KecamatanSnapshot).where(col(KecamatanSnapshot.day) < wib_day(now - keep))
            )
            conn.execute(
                delete(DistrictSnapshot).where(col(DistrictSnapshot.day) < wib_day(now - keep))
            )
            s.commit()
