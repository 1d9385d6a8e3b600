"""Scoring runs, daily history and check roll-ups (the SQL side of DESIGN §6).

Mixed into `Store`. Facts for every village are gathered with a handful of grouped
queries, scored by the pure `aggregator.scoring`, and written with a daily snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, delete, func, or_
from sqlmodel import Session, col, select

from aggregator.models import (
    Check,
    CheckRollup,
    Finding,
    KecamatanSnapshot,
    MetricSample,
    NewsItem,
    ScoreSnapshot,
    Service,
    Village,
)
from aggregator.scoring import VillageFacts, score_village, service_state, visitors_per_day
from aggregator.settings import Settings
from aggregator.status import STATUSES, derive_status

log = logging.getLogger(__name__)
WIB_OFFSET = timedelta(hours=7)
# A village's activity: posts not flagged as spam and dated at most FUTURE_GRACE ahead (a
# post dated in the future is not activity yet); "recent" posts are those of RECENT_WINDOW.
FUTURE_GRACE = timedelta(days=1)
RECENT_WINDOW = timedelta(days=30)


def legit_news(now: datetime) -> Any:
    """SQL condition of a news item that counts as activity at `now`."""
    return ~col(NewsItem.is_spam) & (col(NewsItem.published_at) <= now + FUTURE_GRACE)


def compromised_counts(s: Session, codes: Sequence[str] | None = None) -> dict[str, int]:
    """Open compromised findings per village, of `codes` or of all (a suspicious finding
    waits for review and does not count)."""
    q = select(Finding.village_code, func.count()).where(
        Finding.status == "open", Finding.level == "compromised"
    )
    if codes is not None:
        q = q.where(col(Finding.village_code).in_(list(codes)))
    return dict(s.exec(q.group_by(Finding.village_code)).all())


def wib_day(moment: datetime) -> date:
    """The calendar day in WIB, which is the day a Purbalingga officer means."""
    return (moment.astimezone(UTC) + WIB_OFFSET).date()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class ScoreKeeping:
    engine: Engine
    settings: Settings
    _write_lock: threading.Lock

    def _facts(self, s: Session, now: datetime) -> dict[str, VillageFacts]:
        sc = self.settings.scoring
        legit = legit_news(now)
        posts = dict(
            s.exec(
                select(NewsItem.village_code, func.count())
                .where(legit, col(NewsItem.published_at) >= now - RECENT_WINDOW)
                .group_by(NewsItem.village_code)
            ).all()
        )
        last_post = dict(
            s.exec(
                select(NewsItem.village_code, func.max(NewsItem.published_at))
                .where(legit)
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
                .group_by(Check.village_code)
            ).all()
        }
        services: dict[str, dict[str, bool]] = defaultdict(dict)
        for sv in s.exec(select(Service)).all():
            state = service_state(sv.available, sv.count, sv.last_date, now)
            services[sv.village_code][sv.kind] = state == "berisi"
        visitors: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for code, at, value in s.exec(
            select(MetricSample.village_code, MetricSample.at, MetricSample.value).where(
                MetricSample.name == "visitors_total",
                col(MetricSample.at) >= now - timedelta(days=7),
                col(MetricSample.at) <= now,
            )
        ).all():
            if at is not None:
                visitors[code].append((at, value))
        findings = compromised_counts(s)
        facts: dict[str, VillageFacts] = {}
        for v in s.exec(select(Village).where(col(Village.in_config))).all():
            last = last_post.get(v.code)
            n, ok = checks.get(v.code, (0, 0))
            facts[v.code] = VillageFacts(
                has_site=bool(v.url),
                compromised=findings.get(v.code, 0) > 0,
                days_since_post=(now - last).total_seconds() / 86400 if last else None,
                posts_30d=int(posts.get(v.code, 0)),
                checks=n,
                checks_ok=ok,
                services=services.get(v.code, {}),
                visitors_per_day=visitors_per_day(visitors.get(v.code, [])),
            )
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
                f = facts[v.code]
                result = score_village(f, self.settings.scoring)
                status = derive_status(
                    has_url=f.has_site,
                    consecutive_failures=v.consecutive_failures,
                    last_post_at=(now - timedelta(days=f.days_since_post))
                    if f.days_since_post is not None
                    else None,
                    open_findings=1 if f.compromised else 0,
                    now=now,
                    settings=self.settings,
                    consecutive_ok=v.consecutive_ok,
                    previous=v.status if v.status_since is not None else None,
                )
                if status != v.status or v.status_since is None:
                    v.status, v.status_since = status, now
                v.score = result.score if f.has_site else 0.0
                v.score_components = json.dumps(result.as_json(), ensure_ascii=False)
                v.scored_at = now
                v.posts_30d = f.posts_30d
                s.add(v)
                snap = snaps.get(v.code) or ScoreSnapshot(village_code=v.code, day=day, status="")
                snap.score, snap.status = v.score, v.status
                snap.components = json.dumps(
                    {c.key: c.points for c in result.components}, separators=(",", ":")
                )
                s.add(snap)
                per_kec[v.kecamatan_code].append(v)
            self._snapshot_kecamatan(s, day, per_kec)
            s.commit()
        return len(villages)

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
            snap.ready = bool(with_site) and all(v.status == "active" for v in with_site)
            s.add(snap)

    # -- roll-ups and retention ------------------------------------------------------

    def rollup_checks(self, now: datetime) -> int:
        """Aggregate raw checks of the last two days into hourly and daily rows (idempotent)."""
        # Whole WIB days only, so a day's roll-up is always computed from all of its checks.
        since = self._day_start(wib_day(now) - timedelta(days=2))
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
                day_start = self._day_start(wib_day(started))
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

    @staticmethod
    def _day_start(day: date) -> datetime:
        """00:00 WIB of `day`, in UTC."""
        return datetime.combine(day, datetime.min.time(), UTC) - WIB_OFFSET

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
            s.commit()

    # -- reads -----------------------------------------------------------------------

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
            }
            for r in rows
        ]
