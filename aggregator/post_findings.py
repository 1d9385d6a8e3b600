"""Findings from post bodies (aggregator.postcheck): open, update and resolve the village's
post-body finding. Mixed into `Store`.

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

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.alerts import AlertEvent
from aggregator.integrity.verdict import COMPROMISED
from aggregator.models import Finding, Village
from aggregator.postcheck import POST_KIND, PostCheck, merged_evidence


class PostFindings:
    engine: Engine
    _write_lock: threading.Lock

    if TYPE_CHECKING:

        def _refresh_village(self, s: Session, v: Village, now: datetime) -> None: ...

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
            self._refresh_village(s, v, now)
            s.add(v)
            s.commit()
        return events
