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
    consecutive_ok: int = 0,
    previous: str | None = None,
) -> str:
    """The status of one village; `last_post_at` counts legitimate (non-spam) posts only.

    Up/down has hysteresis: down after `unreachable_after` failed checks in a row, and back
    up only after `recover_after` good ones, so a flapping site doesn't flap the dashboard.
    """
    if open_findings > 0:
        return "compromised"
    if not has_url:
        return "no_site"
    if consecutive_failures >= settings.unreachable_after:
        return "unreachable"
    if previous == "unreachable" and consecutive_ok < settings.recover_after:
        return "unreachable"
    if last_post_at is None:
        return "inactive"
    age = now - last_post_at
    if age <= timedelta(days=settings.active_days):
        return "active"
    if age <= timedelta(days=settings.low_activity_days):
        return "low_activity"
    return "inactive"
