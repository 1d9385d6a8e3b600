"""Alerts off the poll path: an event is queued as one row per target (a quick insert where
it happens), and the alerts job sends the due rows with a timeout each, so a slow or failing
target never holds up polling. Every row is the record of its send.

- Routing: kabupaten targets get every event; a kecamatan's targets get the events of its
  villages (and its own digest); `sipande alert test` goes to every target.
- Deduplicated: the same event for the same target within `dedupe_window` is recorded as
  a duplicate and not sent.
- Rate-limited: at most `rate_limit` sends per target per hour; the rest wait their turn.
- A failed send is tried again (after 5, then 10 minutes) and then recorded as failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, or_
from sqlmodel import Session, col, select

from aggregator.alerts.events import AlertEvent, body, subject
from aggregator.alerts.send import kabupaten_targets, send_one, target_id, target_label
from aggregator.fetch.client import Fetcher
from aggregator.models import AlertSend
from aggregator.settings import AlertSettings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)
KEEP = timedelta(days=180)
BATCH = 500  # rows looked at per run
DUE = ("pending", "retry")


def all_targets(settings: AlertSettings) -> list[str]:
    """Every configured target, each once: the kabupaten's, then each kecamatan's."""
    urls = [*kabupaten_targets(settings), *(u for _, us in settings.kecamatan for u in us)]
    return list(dict.fromkeys(urls))


def routes(settings: AlertSettings, event: AlertEvent) -> list[str]:
    """The targets an event goes to."""
    if event.event == "test":
        return all_targets(settings)
    kecamatan = list(settings.kecamatan_targets(event.kecamatan_code))
    if event.event == "digest":  # one digest per region, each to its own targets
        return kecamatan if event.village_code else kabupaten_targets(settings)
    return list(dict.fromkeys([*kabupaten_targets(settings), *kecamatan]))


def dedupe_key(event: AlertEvent) -> str:
    if event.event in ("test", "digest"):
        return f"{event.event}:{event.village_code}:{event.at}"[:200]
    return f"{event.event}:{event.village_code}:{event.kind}"[:200]


def queue_alerts(
    engine: Engine, settings: AlertSettings, events: Sequence[AlertEvent], now: datetime
) -> int:
    """Queue each event for each of its targets; returns rows queued to send (duplicates
    are recorded as such). Blocking: call it in a thread from async code."""
    if not events:
        return 0
    queued = 0
    since = now - timedelta(seconds=settings.dedupe_window)
    with Session(engine) as s:
        for e in events:
            key = dedupe_key(e)
            for url in routes(settings, e):
                tid = target_id(url)
                seen = s.exec(
                    select(AlertSend.id).where(
                        AlertSend.target == tid,
                        AlertSend.dedupe_key == key,
                        col(AlertSend.created_at) >= since,
                        AlertSend.status != "duplicate",
                    )
                ).first()
                s.add(
                    AlertSend(
                        created_at=now,
                        event=e.event,
                        region=e.village_code,
                        target=tid,
                        target_label=target_label(url),
                        dedupe_key=key,
                        subject=subject(e),
                        body=body(e, settings.dashboard_url),
                        payload=json.dumps(asdict(e), ensure_ascii=False),
                        status="duplicate" if seen is not None else "pending",
                        next_try_at=now,
                    )
                )
                queued += seen is None
        s.commit()
    return queued


def _due(engine: Engine, settings: AlertSettings, now: datetime) -> dict[str, list[AlertSend]]:
    """Due rows per target, each target's cut to what its hourly rate limit leaves."""
    with Session(engine) as s:
        rows = s.exec(
            select(AlertSend)
            .where(col(AlertSend.status).in_(DUE))
            .where(or_(col(AlertSend.next_try_at).is_(None), col(AlertSend.next_try_at) <= now))
            .order_by(col(AlertSend.id))
            .limit(BATCH)
        ).all()
        per_target: dict[str, list[AlertSend]] = defaultdict(list)
        for row in rows:
            per_target[row.target].append(row)
        sent = dict(
            s.exec(
                select(AlertSend.target, func.count())
                .where(
                    AlertSend.status == "sent", col(AlertSend.sent_at) >= now - timedelta(hours=1)
                )
                .where(col(AlertSend.target).in_(list(per_target)))
                .group_by(AlertSend.target)
            ).all()
        )
    return {
        t: rs[: max(0, settings.rate_limit - int(sent.get(t, 0)))] for t, rs in per_target.items()
    }


def _finish(engine: Engine, row_id: int, error: str | None, now: datetime) -> None:
    with Session(engine) as s:
        row = s.get(AlertSend, row_id)
        if row is None:
            return
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.error = "sent", now, ""
        else:
            row.error = error[:2000]
            final = row.attempts >= MAX_ATTEMPTS or error.startswith("target no longer")
            row.status = "failed" if final else "retry"
            row.next_try_at = now + RETRY_AFTER * row.attempts
        s.add(row)
        s.commit()


async def deliver_due(
    engine: Engine, settings: AlertSettings, fetcher: Fetcher, now: datetime
) -> dict[str, int]:
    """Send the due rows: targets side by side, each target's rows in order, a target
    that fails left alone until the next run (a run waits at most about one
    `send_timeout` for a dead target). Returns counts of sent and failed sends."""
    due = await asyncio.to_thread(_due, engine, settings, now)
    urls = {target_id(u): u for u in all_targets(settings)}
    counts = {"sent": 0, "failed": 0}

    async def one_target(tid: str, rows: list[AlertSend]) -> None:
        for row in rows:
            assert row.id is not None
            url = urls.get(tid)
            if url is None:
                error: str | None = "target no longer configured"
            else:
                event = AlertEvent(**json.loads(row.payload))
                error = await send_one(url, event, settings, fetcher)
            if error is not None:
                log.error("alert %s to %s failed: %s", row.event, row.target_label, error)
            await asyncio.to_thread(_finish, engine, row.id, error, now)
            counts["failed" if error else "sent"] += 1
            if error is not None and url is not None:
                break  # a target that failed now gets the rest of its rows on a later run

    await asyncio.gather(*(one_target(t, rows) for t, rows in due.items()))
    return counts


def prune_sends(engine: Engine, now: datetime) -> None:
    with Session(engine) as s:
        s.connection().execute(delete(AlertSend).where(col(AlertSend.created_at) < now - KEEP))
        s.commit()


def recent_sends(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """The newest sends, for the admin page."""
    with Session(engine) as s:
        rows = s.exec(select(AlertSend).order_by(col(AlertSend.id).desc()).limit(limit)).all()
    return [
        {
            "created_at": r.created_at,
            "event": r.event,
            "region": r.region,
            "target": r.target_label,
            "subject": r.subject,
            "status": r.status,
            "attempts": r.attempts,
            "sent_at": r.sent_at,
            "error": r.error,
        }
        for r in rows
    ]


def record_send(
    engine: Engine, settings: AlertSettings, url: str, event: AlertEvent, error: str | None,
    now: datetime,
) -> None:  # fmt: skip
    """Record a send made at once (`sipande alert test`), outside the queue."""
    with Session(engine) as s:
        s.add(
            AlertSend(
                created_at=now, event=event.event, region=event.village_code,
                target=target_id(url), target_label=target_label(url),
                dedupe_key=dedupe_key(event), subject=subject(event),
                body=body(event, settings.dashboard_url),
                payload=json.dumps(asdict(event), ensure_ascii=False),
                status="sent" if error is None else "failed", attempts=1,
                sent_at=now if error is None else None, error=error or "",
            )
        )  # fmt: skip
        s.commit()
