"""Village status and the rules built on it: pure functions, the one home of each rule.

- `status_of`: the status of one village from its `StatusFacts` (first match wins). The
  per-poll refresh and the periodic scoring run both gather the same facts and call it.
- `counts_as_activity`: which news items are activity (not spam, not dated in the future).
- `is_ready`: "siap Sipande", every village with a site is active.
- `ATTENTION_STATUSES` / `URGENCY`: the order of the attention list, most urgent first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.settings import Settings

STATUSES = ("active", "low_activity", "inactive", "unreachable", "compromised", "no_site")

STATUS_LABELS = {
    "active": "Aktif",
    "low_activity": "Kurang aktif",
    "inactive": "Tidak aktif",
    "unreachable": "Tidak terjangkau",
    "compromised": "Disusupi",
    "no_site": "Belum ada situs",
}

# The statuses that need attention, most urgent first: hijacked, then down, then silent,
# then slowing down; `URGENCY` orders every status the same way.
ATTENTION_STATUSES = ("compromised", "unreachable", "inactive", "low_activity")
URGENCY = (*ATTENTION_STATUSES, "active", "no_site")

# A village's activity: posts not flagged as spam and dated at most FUTURE_GRACE ahead (a
# post dated in the future is not activity yet); "recent" posts are those of RECENT_WINDOW.
FUTURE_GRACE = timedelta(days=1)
RECENT_WINDOW = timedelta(days=30)


def counts_as_activity(is_spam: bool, published_at: datetime | None, now: datetime) -> bool:
    """Whether a news item is activity at `now` (the store's SQL says the same thing)."""
    return not is_spam and published_at is not None and published_at <= now + FUTURE_GRACE


@dataclass(frozen=True)
class StatusFacts:
    """What the status of one village depends on."""

    has_site: bool
    compromised: bool  # an open finding at the compromised level
    consecutive_failures: int
    consecutive_ok: int
    last_post_at: datetime | None  # the newest post that counts as activity
    previous: str | None  # the stored status, None before the first derivation


def status_of(facts: StatusFacts, now: datetime, settings: Settings) -> str:
    """The status of one village.

    Up/down has hysteresis: down after `unreachable_after` failed checks in a row, and back
    up only after `recover_after` good ones, so a flapping site doesn't flap the dashboard.
    """
    if facts.compromised:
        return "compromised"
    if not facts.has_site:
        return "no_site"
    if facts.consecutive_failures >= settings.unreachable_after:
        return "unreachable"
    if facts.previous == "unreachable" and facts.consecutive_ok < settings.recover_after:
        return "unreachable"
    if facts.last_post_at is None:
        return "inactive"
    age = now - facts.last_post_at
    if age <= timedelta(days=settings.active_days):
        return "active"
    if age <= timedelta(days=settings.low_activity_days):
        return "low_activity"
    return "inactive"


def is_ready(with_site: int, active_with_site: int) -> bool:
    """ "Siap Sipande": the place has villages with a site, and every one of them is active."""
    return with_site > 0 and active_with_site == with_site
