"""Poll outcomes: one Check row per poll, the village's schedule and platform, what the
poll harvested (news, services, metrics), and the derived columns kept current.

A write of a poll's result goes here (its news merge is `aggregator.store.news.merge_items`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert
from sqlmodel import Session, col, select

from aggregator.models import Check, MetricSample, Service, Village
from aggregator.store.derived import add_to_counts, compromised_counts, refresh_village
from aggregator.store.merge import merge_items
from aggregator.store.summary import SummaryWriter, refresh_summary
from aggregator.types import Decision, PollOutcome

log = logging.getLogger(__name__)


def _insert_checks(s: Session, checks: list[dict[str, Any]]) -> None:
    if checks:
        s.connection().execute(insert(Check), checks)


class Polls(SummaryWriter):
    """Writes of poll outcomes."""

    def record_poll(
        self, outcome: PollOutcome, decision: Decision, first_polled: list[str] | None = None
    ) -> int:
        """Store one poll: its Check row, the schedule, and what it harvested. Returns new
        items; `first_polled` gets the village's code when this is its first poll."""
        with self._write_lock, Session(self.engine) as s:
            checks: list[dict[str, Any]] = []
            v = s.get(Village, outcome.village_code)
            first = v is not None and v.last_checked_at is None
            new = self._apply_poll(s, v, outcome, decision, checks)
            _insert_checks(s, checks)
            s.commit()
            if first and first_polled is not None:
                first_polled.append(outcome.village_code)
            refresh_summary(self.engine)
            return new

    def record_polls(
        self,
        batch: Sequence[tuple[PollOutcome, Decision]],
        first_polled: list[str] | None = None,
    ) -> list[int | Exception]:
        """Store many polls in one transaction (the poller's batching writer): new items per
        poll, in order; `first_polled` gets the codes of the villages whose first poll was
        written (the writer scores them and reconstructs their past). If the batch fails as
        a whole, each poll is written on its own, so one bad row costs only its own poll,
        returned as its exception."""
        if not batch:
            return []
        with self._write_lock:
            try:
                with Session(self.engine) as s:
                    codes = list({o.village_code for o, _ in batch})
                    rows = {
                        v.code: v
                        for v in s.exec(select(Village).where(col(Village.code).in_(codes))).all()
                    }
                    first = [c for c, v in rows.items() if v.last_checked_at is None]
                    found = compromised_counts(s, codes)  # one query, not one per poll
                    checks: list[dict[str, Any]] = []
                    # Each poll's queries read only its own village's rows: the checks (one
                    # statement) and village updates of the batch are written at the commit.
                    with s.no_autoflush:
                        results: list[int | Exception] = [
                            self._apply_poll(
                                s,
                                rows.get(o.village_code),
                                o,
                                d,
                                checks,
                                found.get(o.village_code, 0),
                            )
                            for o, d in batch
                        ]
                    _insert_checks(s, checks)
                    s.commit()
                    if first_polled is not None:
                        first_polled.extend(first)
                    self.refresh_summary_now_and_then()
                    return results
            except Exception:
                log.exception("a batch of %d polls failed; writing them one by one", len(batch))
        out: list[int | Exception] = []
        for outcome, decision in batch:
            try:
                out.append(self.record_poll(outcome, decision, first_polled))
            except Exception as e:
                out.append(e)
        return out

    def _apply_poll(
        self,
        s: Session,
        v: Village | None,
        outcome: PollOutcome,
        decision: Decision,
        checks: list[dict[str, Any]],
        findings: int | None = None,
    ) -> int:
        """Apply one poll to its village row and its harvest; its Check row is appended to
        `checks` (inserted by the caller, a batch's in one statement)."""
        if v is None:
            log.warning("village=%s: poll result for unknown village dropped", outcome.village_code)
            return 0
        fresh: list[dict[str, Any]] = []
        edited = False
        h = outcome.harvest
        if outcome.ok and h is not None:
            fresh, edited = merge_items(s, v.code, h.items, outcome.started_at)
            if h.services:
                self._merge_services(s, v.code, h.services, outcome.started_at)
            for name, value in h.metrics.items():
                s.add(
                    MetricSample(village_code=v.code, name=name, value=value, at=outcome.started_at)
                )
            if not h.not_modified:  # a 304 tells nothing about the platform
                v.detected_platform = h.platform
                v.platform_version = h.version or v.platform_version
            v.feed_url = h.feed_url or v.feed_url
            v.last_success_at = outcome.started_at
        if outcome.validators:
            v.validators = json.dumps(dict(outcome.validators), sort_keys=True)
        if outcome.plan is not None:  # what to fetch when (connectors/opensid_plan.py)
            v.plan = json.dumps(dict(outcome.plan), sort_keys=True)
        if outcome.cookies is not None:
            cookies = json.dumps(dict(outcome.cookies), sort_keys=True)
            if cookies != v.cookies:
                v.cookies = cookies
        checks.append(
            {
                "village_code": v.code,
                "started_at": outcome.started_at,
                "duration_ms": outcome.duration_ms,
                "ok": outcome.ok,
                "phase": outcome.phase,
                "status_code": outcome.status_code,
                "message": (outcome.message or "")[:1000] or None,
                "url": outcome.url,
                "bytes": outcome.bytes,
                "changed": bool(fresh) or edited,
                "new_items": len(fresh),
            }
        )
        if outcome.phase != "offline":  # our outage says nothing about the village
            v.last_checked_at = outcome.started_at
            v.last_check_ok = outcome.ok
            v.last_error_phase = None if outcome.ok else outcome.phase
            v.last_error_message = None if outcome.ok else outcome.message
        v.next_check_at = decision.next_check_at
        v.consecutive_failures = decision.consecutive_failures
        v.consecutive_ok = decision.consecutive_ok
        v.failing_since = decision.failing_since
        # An edit may move the counts either way: count again. New items only add to them;
        # unchanged news only ages, and score_all recounts every 10 min.
        if edited or v.status_since is None:
            recount = True
        else:
            recount = False
            add_to_counts(v, fresh, outcome.started_at)
        refresh_village(s, v, outcome.started_at, self.settings, recount=recount, findings=findings)
        s.add(v)
        return len(fresh)

    def _merge_services(
        self, s: Session, code: str, services: Iterable[Any], now: datetime
    ) -> None:
        """Each observed service's row, inserted or updated in place (one upsert per
        village: loading and flushing seven ORM rows was a tenth of a first poll's writing).
        A kind observed twice keeps its last observation. A page that answered an error
        keeps what its last answer showed (a passing 500 does not empty a service with
        content) and records the error."""
        rows = {
            obs.kind: {
                "village_code": code,
                "kind": obs.kind,
                "available": obs.available,
                "count": obs.count,
                "last_date": obs.last_date,
                "url": obs.url,
                "checked_at": now,
                "error": obs.error,
            }
            for obs in services
        }
        if not rows:
            return
        upsert = self._insert(Service)
        answered = upsert.excluded.error.is_(None)
        table = Service.__table__.c  # type: ignore[attr-defined]
        kept = {
            name: case((answered, upsert.excluded[name]), else_=table[name])
            for name in ("available", "count", "last_date", "url")
        }
        stmt = upsert.on_conflict_do_update(
            index_elements=["village_code", "kind"],
            set_={**kept, "checked_at": upsert.excluded.checked_at, "error": upsert.excluded.error},
        )
        s.connection().execute(stmt, list(rows.values()))
