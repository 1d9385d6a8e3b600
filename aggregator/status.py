"""Village status (DESIGN §6): pure rules, first match wins."""

from __future__ import annotations

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


def derive_status(
    *,
    has_url: bool,
    consecutive_failures: int,
    last_post_at: datetime | None,
    open_findings: int,
    now: datetime,
    settings: Settings,
) -> str:
    """The status of one village; `last_post_at` counts legitimate (non-spam) posts only."""
    if open_findings > 0:
        return "compromised"
    if not has_url:
        return "no_site"
    if consecutive_failures >= settings.unreachable_after:
        return "unreachable"
    if last_post_at is None:
        return "inactive"
    age = now - last_post_at
    if age <= timedelta(days=settings.active_days):
        return "active"
    if age <= timedelta(days=settings.low_activity_days):
        return "low_activity"
    return "inactive"
