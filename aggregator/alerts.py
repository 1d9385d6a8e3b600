"""Alerts on integrity state changes only (a finding opened or resolved): a JSON webhook and
e-mail over SMTP, both configured in `settings.alerts`. A failing channel is logged; it never
stops polling, and the change itself is already in the store.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import asdict, dataclass
from email.message import EmailMessage

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher
from aggregator.settings import AlertSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertEvent:
    event: str  # "finding_opened" | "finding_resolved"
    village_code: str
    village_name: str
    kind: str
    level: str
    url: str
    evidence: str
    at: str  # ISO 8601


_WHAT = {
    "finding_opened": "TERDETEKSI",
    "finding_resolved": "PULIH",
    "expiry_warning": "SEGERA KEDALUWARSA",
    "expiry_renewed": "DIPERPANJANG",
}
_LEAD = {
    "finding_opened": "Temuan integritas baru.",
    "finding_resolved": "Temuan telah pulih.",
    "expiry_warning": "Sertifikat atau domain situs desa segera kedaluwarsa.",
    "expiry_renewed": "Sertifikat atau domain situs desa telah diperpanjang.",
}


def _subject(e: AlertEvent) -> str:
    what = _WHAT.get(e.event, e.event)
    return f"[Sipande] {what}: {e.kind} di {e.village_name} ({e.village_code})"


def _body(e: AlertEvent, dashboard_url: str) -> str:
    lines = [
        _LEAD.get(e.event, e.event),
        f"Desa: {e.village_name} ({e.village_code})",
        f"Jenis: {e.kind} ({e.level})",
        f"Alamat: {e.url}",
        f"Bukti: {e.evidence}",
        f"Waktu: {e.at}",
    ]
    if dashboard_url:
        lines.append(f"Dasbor: {dashboard_url.rstrip('/')}/desa/{e.village_code}")
    return "\n".join(lines) + "\n"


def _send_mail(settings: AlertSettings, event: AlertEvent) -> None:
    msg = EmailMessage()
    msg["Subject"] = _subject(event)
    msg["From"] = settings.email_from
    msg["To"] = ", ".join(settings.email_to)
    msg.set_content(_body(event, settings.dashboard_url))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        smtp.send_message(msg)


async def send_alerts(settings: AlertSettings, events: list[AlertEvent], fetcher: Fetcher) -> int:
    """Deliver events on every configured channel; returns deliveries that succeeded. The
    webhook is called through `fetcher`: its private-address guard applies to it too."""
    delivered = 0
    if not events:
        return 0
    if settings.webhook_url:
        for e in events:
            try:
                resp = await fetcher.post_json(settings.webhook_url, asdict(e))
            except FetchError as exc:
                log.error("village=%s: webhook alert failed: %s", e.village_code, exc)
                continue
            if resp.status_code >= 300:
                log.error("village=%s: webhook alert failed: HTTP %d", e.village_code,
                          resp.status_code)  # fmt: skip
                continue
            delivered += 1
    if settings.smtp_host and settings.email_to:
        for e in events:
            try:
                await asyncio.to_thread(_send_mail, settings, e)
                delivered += 1
            except (OSError, smtplib.SMTPException) as exc:
                log.error("village=%s: e-mail alert failed: %s", e.village_code, exc)
    return delivered
