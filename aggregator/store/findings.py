"""Integrity findings: opened, updated and resolved by the watch's scans and by the
post-body checks of polls, acknowledged by officers, and read by the pages and the API.

A query that reads or writes findings goes here (the count of compromised findings that a
status depends on is `aggregator.store.derived.compromised_counts`).

How a post-body finding lives, and why it differs from the watch's findings:

- It has its own kind (POST_KIND). The watch's findings resolve after two clean scans in a
  row, but a scan looks at the home page and the two newest item pages only. A clean home
  page says nothing about an older post's body, so `record_integrity` leaves this kind alone,
  and a body check never touches the watch's findings either.
- It is opened (or updated) by any poll in which a body is hostile, on the first poll that
  reads the post; `url` is the post, the evidence quotes up to three hostile posts.
- It is resolved by a clean look at that very post: a later poll that received the post's
  body again (REST lists recently modified posts; a feed, or every entry of it on the watch's
  polls) and found it clean, while no body of that poll is hostile. One clean look is
  enough, unlike the home page's two: a body is what the site's database holds for every
  reader, not a page a cloaker varies by visitor, and a look happens only when the body was
  handed over again (an edited post comes back as changed).
- A post that is never handed over again (deleted, or old and never edited) would keep it
  open forever, so the watch's polls fetch that post's page once while the finding is open
  (Poller._recheck_post): gone (404, 410) or clean is a clean look, still hostile updates it.
- One open finding of the kind per village (the village page's buttons rely on one open
  finding per kind): if two posts are hostile it follows the worst; a post that was hostile
  but is neither read again nor still hostile when the followed one is cleaned is found again
  on the next poll that reads it.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from aggregator.alerts import AlertEvent
from aggregator.clock import iso
from aggregator.integrity.postcheck import POST_KIND, PostCheck, merged_evidence
from aggregator.integrity.verdict import COMPROMISED
from aggregator.models import Finding, Kecamatan, Village
from aggregator.store.derived import refresh_village
from aggregator.store.summary import SummaryWriter

log = logging.getLogger(__name__)


def open_counts(s: Session, codes: list[str] | None = None) -> Counter[str]:
    """Open findings (of any level) per village, of `codes` or of all."""
    q = select(Finding.village_code, func.count()).where(Finding.status == "open")
    if codes is not None:
        q = q.where(col(Finding.village_code).in_(codes))
    return Counter(dict(s.exec(q.group_by(Finding.village_code)).all()))


def finding_dicts(
    s: Session, *, status: str | None = None, village: str | None = None
) -> list[dict[str, Any]]:
    """Findings (of a status, of a village) as the JSON API shows them, newest first."""
    q = select(Finding)
    if status:
        q = q.where(Finding.status == status)
    if village:
        q = q.where(Finding.village_code == village)
    rows = s.exec(q.order_by(col(Finding.last_seen).desc())).all()
    return [
        {
            "village_code": f.village_code,
            "kind": f.kind,
            "url": f.url,
            "evidence": f.evidence,
            "first_seen": iso(f.first_seen),
            "last_seen": iso(f.last_seen),
            "status": f.status,
        }
        for f in rows
    ]


class Findings(SummaryWriter):
    """Writes and reads of findings."""

    def record_integrity(self, code: str, report: Any, now: datetime) -> list[AlertEvent]:
        """Apply one integrity scan (aggregator.integrity.watch.IntegrityReport): open or update
        findings, resolve them after two clean scans in a row; returns the state changes."""
        events: list[AlertEvent] = []
        with self._write_lock, Session(self.engine) as s:
            v = s.get(Village, code)
            if v is None:
                return events
            # A post-body finding is not this scan's to update or resolve: the scan never
            # looked at that older post (this module's docstring says how it resolves).
            open_rows = {
                f.kind: f
                for f in s.exec(
                    select(Finding).where(
                        Finding.village_code == code,
                        Finding.status == "open",
                        Finding.kind != POST_KIND,
                    )
                ).all()
            }

            def event(name: str, f: Finding) -> AlertEvent:
                return AlertEvent(
                    name, code, v.name, f.kind, f.level, f.url, f.evidence, now.isoformat()
                )

            for fr in report.findings:
                row = open_rows.get(fr.kind)
                if row is None:
                    row = Finding(village_code=code, kind=fr.kind, first_seen=now, status="open")
                    open_rows[fr.kind] = row
                    opened = True
                else:
                    opened = False
                row.url, row.evidence, row.last_seen = fr.url, fr.evidence, now
                row.level, row.score, row.signals = fr.level, fr.score, ",".join(fr.signals)
                s.add(row)
                if opened:
                    events.append(event("finding_opened", row))
            if report.level in ("clean", "clean_with_notes"):
                v.integrity_clean_streak += 1
                if v.integrity_clean_streak >= 2:  # two clean scans in a row: resolved
                    for row in open_rows.values():
                        row.status, row.resolved_at = "resolved", now
                        s.add(row)
                        events.append(event("finding_resolved", row))
            elif report.level != "inconclusive":
                v.integrity_clean_streak = 0
            v.integrity_checked_at, v.integrity_level = now, report.level
            # Findings move the status; the news counts are the poll's (as a poll does, they
            # are not counted again here: the scoring run recounts every village).
            refresh_village(s, v, now, self.settings, recount=False)
            s.add(v)
            s.commit()
            self.refresh_summary_now_and_then()
        for e in events:
            log.warning("village=%s: %s %s (%s)", code, e.event, e.kind, e.url)
        return events

    def record_post_findings(self, code: str, check: PostCheck, now: datetime) -> list[AlertEvent]:
        """Apply one poll's post-body check; returns the state changes (for alerts)."""
        events: list[AlertEvent] = []
        with self._write_lock, Session(self.engine) as s:
            v = s.get(Village, code)
            if v is None:
                return events
            row = s.exec(
                select(Finding).where(
                    Finding.village_code == code,
                    Finding.status == "open",
                    Finding.kind == POST_KIND,
                )
            ).first()
            name = "finding_opened"
            if check.findings:
                if row is None:
                    row = Finding(village_code=code, kind=POST_KIND, first_seen=now, status="open")
                else:
                    name = ""
                worst = check.findings[0]
                row.url, row.evidence, row.last_seen = (
                    worst.url,
                    merged_evidence(check.findings),
                    now,
                )
                compromised = any(f.level == COMPROMISED for f in check.findings)
                row.level = COMPROMISED if compromised else worst.level
                row.score = max(f.score for f in check.findings)
                codes = dict.fromkeys(c for f in check.findings for c in f.signals)
                row.signals = ",".join(codes)
            elif row is not None and row.url in check.clean:
                row.status, row.resolved_at, name = "resolved", now, "finding_resolved"
            else:
                return events
            s.add(row)
            if name:
                events.append(
                    AlertEvent(
                        name,
                        code,
                        v.name,
                        row.kind,
                        row.level,
                        row.url,
                        row.evidence,
                        now.isoformat(),
                    )
                )
            refresh_village(s, v, now, self.settings, recount=False)
            s.add(v)
            s.commit()
            self.refresh_summary_now_and_then()
        return events

    def acknowledge_finding(self, finding_id: int, user: str, now: datetime) -> bool:
        """An officer has seen the finding; who and when are recorded."""
        with self._write_lock, Session(self.engine) as s:
            row = s.get(Finding, finding_id)
            if row is None:
                return False
            row.acknowledged_by, row.acknowledged_at = user, now
            s.add(row)
            s.commit()
            return True

    def findings(
        self, *, status: str | None = None, village: str | None = None
    ) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            return finding_dicts(s, status=status, village=village)

    def finding_village(self, finding_id: int) -> tuple[str, str] | None:
        """The village code and kecamatan code of a finding, for the scope check."""
        with Session(self.engine) as s:
            row = s.exec(
                select(Finding.village_code, Village.kecamatan_code)
                .join(Village, col(Village.code) == col(Finding.village_code))
                .where(Finding.id == finding_id)
            ).first()
            return (row[0], row[1]) if row else None

    def open_findings_by_kind(self, village_code: str) -> dict[str, dict[str, Any]]:
        """A village's open findings by kind (one open finding per kind), with their ids
        and acknowledgement, for the village page's buttons."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Finding).where(
                    Finding.village_code == village_code, Finding.status == "open"
                )
            ).all()
            return {
                f.kind: {
                    "id": f.id,
                    "acknowledged_by": f.acknowledged_by,
                    "acknowledged_at": iso(f.acknowledged_at),
                }
                for f in rows
            }

    def admin_findings(self, kecamatan: str | None = None) -> list[dict[str, Any]]:
        """Open findings with their ids and who acknowledged them, most recent first;
        `kecamatan` None: the whole kabupaten."""
        q = (
            select(Finding, Village.name, Village.kecamatan_code, Kecamatan.name)
            .join(Village, col(Village.code) == col(Finding.village_code))
            .join(Kecamatan, col(Kecamatan.code) == col(Village.kecamatan_code))
            .where(Finding.status == "open")
        )
        if kecamatan is not None:
            q = q.where(Village.kecamatan_code == kecamatan)
        with Session(self.engine) as s:
            rows = s.exec(q.order_by(col(Finding.last_seen).desc(), col(Finding.id))).all()
        return [
            {
                "id": f.id,
                "village_code": f.village_code,
                "village_name": vname,
                "kecamatan_code": kcode,
                "kecamatan_name": kname,
                "kind": f.kind,
                "level": f.level,
                "url": f.url,
                "evidence": f.evidence,
                "first_seen": iso(f.first_seen),
                "last_seen": iso(f.last_seen),
                "acknowledged_by": f.acknowledged_by,
                "acknowledged_at": iso(f.acknowledged_at),
            }
            for f, vname, kcode, kname in rows
        ]
