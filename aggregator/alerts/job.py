"""The alerts job: turn status changes into events, build the weekly digest, send what is due.

Village statuses move in several places (a poll, the scoring run, the clock); this job reads
them as they are and compares them with what it saw last time (`AlertState`), so each change
becomes one event however it came about: a village becoming unreachable (and reachable
again) or inactive, a kecamatan becoming (or ceasing to be) siap Sipande: every village with
a site active. What is seen for the first time is remembered without an alert, so a new
deployment does not announce its whole district.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from aggregator.alerts.events import AlertEvent
from aggregator.alerts.outbox import deliver_due, prune_sends, queue_alerts
from aggregator.alerts.send import kabupaten_targets
from aggregator.decide.status import STATUS_LABELS, STATUSES
from aggregator.fetch.client import Fetcher
from aggregator.models import AlertSend, AlertState, Kecamatan, KecamatanSnapshot, Village
from aggregator.settings import Settings

if TYPE_CHECKING:
    from aggregator.store import Store

log = logging.getLogger(__name__)
WIB = timedelta(hours=7)
EVENT_LINES = 20  # the digest lists at most this many of the week's events


@dataclass(frozen=True)
class _Seen:
    code: str
    name: str
    status: str
    url: str
    kecamatan: str


def _transition(before: str, after: str) -> str | None:
    """The event of a status change, if it is one officers are told about. A village that
    just got a site (no_site before) is not news until it has a status of its own."""
    if before == after or before == "no_site" or after == "no_site":
        return None
    if after == "unreachable":
        return "village_unreachable"
    if before == "unreachable":
        return "village_reachable"
    return "village_inactive" if after == "inactive" else None


def status_events(engine: Engine, now: datetime) -> list[AlertEvent]:
    """Events for every status change since the last look; remembers what it saw."""
    at = now.isoformat()
    with Session(engine) as s:
        m = Village
        cols = (m.code, m.name, m.status, m.url, m.kecamatan_code)
        rows = s.connection().execute(sa_select(*map(col, cols)).where(col(m.in_config)))
        villages = [_Seen(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]
        kec_names = dict(s.exec(select(Kecamatan.code, Kecamatan.name)).all())
        state = {st.key: st for st in s.exec(select(AlertState)).all()}
        events: list[AlertEvent] = []

        def remember(key: str, value: str) -> str | None:
            row = state.get(key)
            before = row.value if row is not None else None
            if row is None:
                row = AlertState(key=key, value=value, updated_at=now)
            elif row.value != value:
                row.value, row.updated_at = value, now
            else:
                return before
            s.add(row)
            return before

        per_kec: dict[str, list[_Seen]] = defaultdict(list)
        for v in villages:
            per_kec[v.kecamatan].append(v)
            before = remember(f"village:{v.code}", v.status)
            name = before and _transition(before, v.status)
            if name:
                label = STATUS_LABELS.get(v.status, v.status)
                was = STATUS_LABELS.get(before or "", before)
                evidence = f"Status: {was} → {label}"
                events.append(AlertEvent(name, v.code, v.name, v.status, "warning", v.url,
                                         evidence, at))  # fmt: skip
        for code, members in sorted(per_kec.items()):
            with_site = [v for v in members if v.status != "no_site"]
            ready = bool(with_site) and all(v.status == "active" for v in with_site)
            before = remember(f"kecamatan:{code}", "ready" if ready else "not_ready")
            if before is not None and before != ("ready" if ready else "not_ready"):
                active = sum(v.status == "active" for v in with_site)
                events.append(
                    AlertEvent(
                        "kecamatan_ready" if ready else "kecamatan_not_ready",
                        code, kec_names.get(code, code), "siap_sipande", "info", "",
                        f"{active} dari {len(with_site)} desa bersitus aktif", at,
                    )
                )  # fmt: skip
        s.commit()
    return events


def _week(now: datetime) -> str:
    year, week, _ = (now + WIB).isocalendar()
    return f"{year}-W{week:02d}"


def digest_due(engine: Engine, settings: Settings, now: datetime) -> bool:
    alerts, local = settings.alerts, now + WIB
    if alerts.digest_day is None or local.weekday() != alerts.digest_day:
        return False
    if local.hour < alerts.digest_hour:
        return False
    with Session(engine) as s:
        row = s.get(AlertState, "digest")
    return row is None or row.value != _week(now)


def _counts(s: Session, kecamatan: str | None, day: date | None) -> Counter[str]:
    """Villages per status now (day None) or on a past day's snapshot."""
    if day is None:
        q = select(Village.status, func.count()).where(col(Village.in_config))
        if kecamatan:
            q = q.where(Village.kecamatan_code == kecamatan)
        return Counter(dict(s.exec(q.group_by(Village.status)).all()))
    out: Counter[str] = Counter()
    q2 = select(KecamatanSnapshot).where(KecamatanSnapshot.day == day)
    if kecamatan:
        q2 = q2.where(KecamatanSnapshot.kecamatan_code == kecamatan)
    for snap in s.exec(q2).all():
        out.update({k: int(v) for k, v in json.loads(snap.counts).items()})
    return out


def _week_events(s: Session, kecamatan: str | None, now: datetime) -> list[str]:
    q = (
        select(AlertSend.subject, func.min(AlertSend.id))
        .where(col(AlertSend.created_at) >= now - timedelta(days=7))
        .where(col(AlertSend.event).not_in(("digest", "test")), AlertSend.status != "duplicate")
    )
    if kecamatan:
        q = q.where(col(AlertSend.region).startswith(kecamatan))
    rows = s.exec(q.group_by(AlertSend.subject).order_by(func.min(AlertSend.id))).all()
    return [subject.removeprefix("[Sipande] ") for subject, _ in rows]


def digest_text(store: Store, settings: Settings, now: datetime, kecamatan: str | None) -> str:
    """One message: how statuses moved this week, the week's events, the five most urgent
    villages with links, and the dashboard."""
    base = (settings.base_url or settings.alerts.dashboard_url).rstrip("/")
    from aggregator.clock import wib_day

    with Session(store.engine) as s:
        now_counts = _counts(s, kecamatan, None)
        before = _counts(s, kecamatan, wib_day(now) - timedelta(days=7))
        events = _week_events(s, kecamatan, now)
    lines = ["Status desa sekarang (perubahan sejak minggu lalu):"]
    for st in STATUSES:
        delta = f" ({now_counts[st] - before[st]:+d})" if before else ""
        lines.append(f"- {STATUS_LABELS[st]}: {now_counts[st]}{delta}")
    if kecamatan is None:
        ready = sum(1 for k in store.kecamatan_overview() if k["ready"])
        lines.append(f"Kecamatan siap Sipande: {ready}")
    lines.append("")
    lines.append(f"Peristiwa minggu ini: {len(events) or 'tidak ada'}")
    lines.extend(f"- {e}" for e in events[:EVENT_LINES])
    if len(events) > EVENT_LINES:
        lines.append(f"- dan {len(events) - EVENT_LINES} lainnya")
    urgent, _ = store.attention_villages(kecamatan=kecamatan, limit=5)
    lines.append("")
    lines.append("Lima desa paling mendesak:" if urgent else "Tidak ada desa yang mendesak.")
    for i, v in enumerate(urgent, 1):
        link = f" {base}/desa/{v['code']}" if base else ""
        status = STATUS_LABELS.get(v["status"], v["status"])
        lines.append(f"{i}. {v['name']} (Kec. {v['kecamatan_name']}): {status}{link}")
    if base:
        lines.append("")
        lines.append(f"Dasbor: {base}/" + (f"kecamatan/{kecamatan}" if kecamatan else ""))
    return "\n".join(lines) + "\n"


def digest_events(store: Store, settings: Settings, now: datetime) -> list[AlertEvent]:
    """The week's digests (the kabupaten's, and each kecamatan's that has targets of its
    own), once per week; marks the week done."""
    week, at = _week(now), now.isoformat()
    with Session(store.engine) as s:
        kab = s.exec(select(Kecamatan.kabupaten_code)).first() or ""
        names = dict(s.exec(select(Kecamatan.code, Kecamatan.name)).all())
    events = []
    if kabupaten_targets(settings.alerts):  # built only for someone to read
        text = digest_text(store, settings, now, None)
        events.append(AlertEvent("digest", "", f"Ringkasan mingguan {week}", "digest", "info",
                                 "", text, at))  # fmt: skip
    for code, urls in settings.alerts.kecamatan:
        if urls and code in names:
            title = f"Ringkasan mingguan {week}: Kecamatan {names[code]}"
            text = digest_text(store, settings, now, code)
            events.append(AlertEvent("digest", code, title, "digest", "info", "", text, at))
    with Session(store.engine) as s:
        row = s.get(AlertState, "digest") or AlertState(key="digest")
        row.value, row.updated_at = week, now
        s.add(row)
        s.commit()
    log.info("alerts: weekly digest %s for kabupaten %s queued", week, kab)
    return events


async def run_alerts(store: Store, fetcher: Fetcher, settings: Settings, now: datetime) -> Any:
    """The alerts job: queue status events and a due digest, then send what is due."""
    engine = store.engine
    events = await asyncio.to_thread(status_events, engine, now)
    if await asyncio.to_thread(digest_due, engine, settings, now):
        events += await asyncio.to_thread(digest_events, store, settings, now)
    await asyncio.to_thread(queue_alerts, engine, settings.alerts, events, now)
    counts = await deliver_due(engine, settings.alerts, fetcher, now)
    await asyncio.to_thread(prune_sends, engine, now)
    return counts
