"""Expiry alerts for certificates and domains, decided purely: a threshold (30, 14, 7 days;
0 = expired) fires once when crossed, and once more when the thing is renewed.

The state kept per village and subject is the smallest threshold already alerted, not the
last days-left reading, so a failed check or a gap between checks can neither repeat an alert
nor skip one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aggregator.alerts import AlertEvent

THRESHOLDS = (30, 14, 7, 0)
SUBJECTS = {"certificate": "Sertifikat HTTPS", "domain": "Domain"}


@dataclass(frozen=True)
class ExpiryWatch:
    """What to store per village and subject between checks (None: nothing alerted)."""

    alerted: int | None = None


@dataclass(frozen=True)
class ExpiryEvent:
    subject: str  # certificate | domain
    event: str  # expiring | expired | renewed
    threshold: int | None  # the threshold just crossed (None for renewed)
    days_left: int
    name: str = ""  # the domain, or the host the certificate serves

    @property
    def text(self) -> str:
        """One line in Bahasa Indonesia for the alert."""
        what = SUBJECTS.get(self.subject, self.subject)
        if self.name:
            what += f" {self.name}"
        if self.event == "renewed":
            return f"{what} sudah diperpanjang (berlaku {self.days_left} hari lagi)"
        if self.event == "expired":
            ago = -self.days_left
            return f"{what} sudah kedaluwarsa" + (f" sejak {ago} hari lalu" if ago > 0 else "")
        return f"{what} kedaluwarsa dalam {self.days_left} hari"


def check_expiry(
    subject: str,
    days_left: int | None,
    watch: ExpiryWatch,
    *,
    name: str = "",
    thresholds: Sequence[int] = THRESHOLDS,
) -> tuple[ExpiryWatch, ExpiryEvent | None]:
    """The new watch state and the event to send now, if any.

    Several thresholds crossed at once (a first check finding 5 days left) give one event,
    for the most urgent one: three messages at once would only be noise.
    """
    if days_left is None:  # could not tell this time: keep the state, say nothing
        return watch, None
    widest = max(thresholds)
    if days_left > widest:
        if watch.alerted is None:
            return watch, None
        return ExpiryWatch(None), ExpiryEvent(subject, "renewed", None, days_left, name)
    crossed = min(t for t in thresholds if days_left <= t)
    if watch.alerted is not None and crossed >= watch.alerted:
        return watch, None
    event = "expired" if crossed <= 0 else "expiring"
    return ExpiryWatch(crossed), ExpiryEvent(subject, event, crossed, days_left, name)


def expiry_alert_event(
    event: ExpiryEvent, *, village_code: str, village_name: str, url: str, at: datetime
) -> AlertEvent:
    """An AlertEvent for the integrity channels (webhook, e-mail).

    `event` is "expiry_warning" or "expiry_renewed", so receivers can tell it from findings.
    """
    level = "info" if event.event == "renewed" else "critical" if event.days_left < 7 else "warning"
    return AlertEvent(
        event="expiry_renewed" if event.event == "renewed" else "expiry_warning",
        village_code=village_code,
        village_name=village_name,
        kind=f"{event.subject}_{event.event}",
        level=level,
        url=url,
        evidence=event.text,
        at=at.isoformat(),
    )
