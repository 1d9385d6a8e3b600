"""The poll schedule: the village table kept in step with the districts file, which
villages are due (for the poller, or claimed by distributed workers), re-polls asked for
by officers, and the periodic re-derivation of every status.

A query that decides when a village is polled, or that reads or writes its schedule
columns (next_check_at, leases, validators, cookies), goes here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import extract, func, or_, update
from sqlmodel import Session, col, select

from aggregator.decide.schedule import first_check_at
from aggregator.integrity.postcheck import POST_KIND
from aggregator.models import Check, Finding, Kecamatan, Village
from aggregator.settings import DistrictConfig, Settings
from aggregator.store.base import DEFAULT_DATABASE_URL, StoreBase
from aggregator.store.derived import refresh_village
from aggregator.store.history import rewrite_district_days
from aggregator.store.summary import refresh_summary
from aggregator.types import VillageForPoll

HOLD_STATUSES = (429, 503)  # the site asked us to wait (Retry-After): a re-poll waits too


def _interned(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Every village's plan and validators repeat the same keys ("home", "svc:lapak", "body"):
    # one copy of each instead of one per village (a fifth of a 10,000-village due list).
    return {sys.intern(key): value for key, value in pairs}


def _json_object(text: str | None) -> dict[str, Any]:
    """A JSON object kept in a text column; anything else (a hand edit, a bad row) is {}."""
    try:
        value = json.loads(text or "{}", object_pairs_hook=_interned)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _open_post_url() -> Any:
    """The post url of the village's open post-body finding, as a column of a village query
    (the poller needs it to see whether a clean body resolves that finding)."""
    return (
        select(Finding.url)
        .where(
            Finding.village_code == Village.code,
            Finding.status == "open",
            Finding.kind == POST_KIND,
        )
        .limit(1)
        .scalar_subquery()
    )


class Schedule(StoreBase):
    """Config sync and the poll schedule."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, settings: Settings | None = None):
        super().__init__(url, settings)
        # Scraping rules live in the config file, not the database; kept from the last sync.
        self.html_rules: dict[str, dict[str, str]] = {}

    def sync_config(self, config: DistrictConfig, now: datetime) -> dict[str, int]:
        """Make the village table match the file; villages dropped from it are kept, unpolled."""
        counts = {"added": 0, "updated": 0, "removed": 0}
        self.html_rules = {k: dict(v) for k, v in config.html_rules.items()}
        with self._write_lock, Session(self.engine) as s:
            self._serialise(s.connection())
            kec_existing = {k.code: k for k in s.exec(select(Kecamatan)).all()}
            was_in = {c for c, k in kec_existing.items() if k.in_config}
            for kc in config.kecamatan:
                kec = kec_existing.pop(kc.code, None) or Kecamatan(
                    code=kc.code, name=kc.name, kabupaten_code=config.kabupaten_code
                )
                kec.name, kec.in_config = kc.name, True
                kec.kabupaten_code = config.kabupaten_code
                s.add(kec)
            for kec in kec_existing.values():
                kec.in_config = False
                s.add(kec)
            s.flush()
            existing = {v.code: v for v in s.exec(select(Village)).all()}
            for vc in config.villages:
                v = existing.pop(vc.code, None)
                if v is None:
                    v = Village(code=vc.code, kecamatan_code=vc.kecamatan_code, name=vc.name)
                    v.next_check_at = first_check_at(vc.code, now, self.settings)
                    counts["added"] += 1
                elif (v.url, v.platform, v.name, v.kecamatan_code, v.in_config) != (
                    vc.url,
                    vc.platform,
                    vc.name,
                    vc.kecamatan_code,
                    True,
                ):
                    counts["updated"] += 1
                if v.url != vc.url or v.platform != vc.platform:
                    # A new address or platform: forget what we learned about the old one.
                    v.feed_url, v.validators = None, "{}"
                    v.detected_platform = v.platform_version = None
                    v.consecutive_failures, v.failing_since = 0, None
                    v.next_check_at = first_check_at(vc.code, now, self.settings)
                v.name, v.type, v.url, v.platform = vc.name, vc.type, vc.url, vc.platform
                v.kecamatan_code, v.in_config = vc.kecamatan_code, True
                v.html_rules = vc.html_rules
                s.add(v)
            for v in existing.values():
                if v.in_config:
                    counts["removed"] += 1
                v.in_config = False
                s.add(v)
            if was_in != {kc.code for kc in config.kecamatan}:  # the daily totals sum others
                s.flush()
                rewrite_district_days(s.connection())
            s.commit()
            refresh_summary(self.engine)
        self.refresh_statuses(now)
        return counts

    def due_villages(
        self,
        now: datetime,
        *,
        limit: int | None = None,
        codes: Sequence[str] | None = None,
        kecamatan: str | None = None,
        all_villages: bool = False,
    ) -> list[VillageForPoll]:
        """Villages with a url whose next check is due, oldest due first."""
        last_ms = (
            select(Check.duration_ms)
            .where(Check.village_code == Village.code, Check.started_at == Village.last_checked_at)
            .limit(1)
            .scalar_subquery()
        )
        q = select(Village, last_ms, _open_post_url()).where(
            col(Village.in_config), Village.url != ""
        )
        if not all_villages:
            q = q.where(
                or_(col(Village.next_check_at).is_(None), col(Village.next_check_at) <= now)
            )
        if codes:
            q = q.where(col(Village.code).in_(list(codes)))
        if kecamatan:
            q = q.where(Village.kecamatan_code == kecamatan)
        q = q.order_by(col(Village.next_check_at))
        if limit:
            q = q.limit(limit)
        with Session(self.engine) as s:
            # Streamed: the village rows of a whole pass are never all in memory at once.
            rows = s.exec(q.execution_options(yield_per=500))
            return [self._for_poll(v, ms, post) for v, ms, post in rows]

    def _for_poll(
        self, v: Village, last_duration_ms: int | None = None, open_post: str | None = None
    ) -> VillageForPoll:
        return VillageForPoll(
            code=v.code,
            url=v.url,
            platform=v.platform,
            feed_url=v.feed_url,
            validators=_json_object(v.validators),
            consecutive_failures=v.consecutive_failures,
            failing_since=v.failing_since,
            consecutive_ok=v.consecutive_ok,
            posts_30d=v.posts_30d,
            detected_platform=v.detected_platform,
            rules=self.html_rules.get(v.html_rules) if v.html_rules else None,
            integrity_checked_at=v.integrity_checked_at,
            last_duration_ms=last_duration_ms,
            cookies=_json_object(v.cookies),
            plan=_json_object(v.plan),
            open_post_finding=open_post,
        )

    def claim_due(self, now: datetime, lease_seconds: float, limit: int) -> list[VillageForPoll]:
        """Take due villages for distributed polling: each gets a lease (next_check_at moved
        ahead), so the next dispatch doesn't queue it again while it is being polled; the
        poll's own result then sets the real next time. A dead worker's lease just expires.

        Slowest first, like the poller's pass (`expected_ms`): villages are taken by their
        due time less their last check's duration, so a site that took the whole deadline
        last time is queued ahead of quick ones due at about the same time (and never more
        than its own duration ahead); never-checked villages count as slowest."""
        last_ms = (
            select(Check.duration_ms)
            .where(Check.village_code == Village.code, Check.started_at == Village.last_checked_at)
            .limit(1)
            .scalar_subquery()
        )
        due_s = extract("epoch", func.coalesce(col(Village.next_check_at), now))
        unknown_ms = 10**9  # never checked: ahead of any due village with a duration
        start_by = due_s - func.coalesce(last_ms, unknown_ms) / 1000.0
        with self._write_lock, Session(self.engine) as s:
            rows = s.exec(
                select(Village, last_ms, _open_post_url())
                .where(col(Village.in_config), Village.url != "")
                .where(or_(col(Village.next_check_at).is_(None), col(Village.next_check_at) <= now))
                .order_by(start_by)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Village)
            ).all()
            claimed = [self._for_poll(v, ms, post) for v, ms, post in rows]
            for v, _ms, _post in rows:
                v.next_check_at = now + timedelta(seconds=lease_seconds)
                s.add(v)
            s.commit()
        return claimed

    def last_checked_at(self, code: str) -> datetime | None:
        """Start time of the village's newest check (offline checks included)."""
        with Session(self.engine) as s:
            newest: datetime | None = s.exec(
                select(func.max(Check.started_at)).where(Check.village_code == code)
            ).one()
            return newest

    def overdue_stats(self, now: datetime) -> dict[str, Any]:
        """Backlog of the dispatcher: how many polls are overdue and by how long."""
        with Session(self.engine) as s:
            q = select(func.count(), func.min(Village.next_check_at)).where(
                col(Village.in_config), Village.url != "", col(Village.next_check_at) <= now
            )
            count, oldest = s.exec(q).one()
        lateness = (now - oldest).total_seconds() if oldest else 0.0
        return {"overdue": int(count), "max_lateness_s": round(lateness, 1)}

    def request_poll(self, code: str, now: datetime) -> datetime | None:
        """Make a village due now (the dispatcher polls it at its next tick). Returns when
        it will be checked: now, or later if the site asked us to wait (429/503 with
        Retry-After), which an impatient click must not override. None: no such village,
        or one without a site or no longer configured."""
        with self._write_lock, Session(self.engine) as s:
            v = s.get(Village, code)
            if v is None or not v.url or not v.in_config:
                return None
            last = s.exec(
                select(Check.status_code)
                .where(Check.village_code == code)
                .order_by(col(Check.started_at).desc(), col(Check.id).desc())
                .limit(1)
            ).first()
            if v.next_check_at is not None and v.next_check_at <= now:
                return now  # already due
            if v.next_check_at is not None and last in HOLD_STATUSES:
                return v.next_check_at
            v.next_check_at = now
            s.add(v)
            s.commit()
            return now

    def refresh_statuses(self, now: datetime) -> int:
        """Re-derive every village's status (time alone moves villages from active to quiet)."""
        changed = 0
        with self._write_lock, Session(self.engine) as s:
            for v in s.exec(select(Village)).all():
                before = v.status
                refresh_village(s, v, now, self.settings)
                if v.status != before:
                    changed += 1
                    s.add(v)
            s.commit()
            refresh_summary(self.engine)
        return changed

    def mark_all_due(self, now: datetime) -> None:
        """Make every village due now (no command uses it: tests start a full dispatch with it)."""
        with self._write_lock, Session(self.engine) as s:
            s.connection().execute(update(Village).values(next_check_at=now))
            s.commit()
