"""Shared by the yardsticks: turning explained parts into a 0–100 `Score` (the activity score's
shape, so pages and storage treat the three alike), and Indonesian dates for reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aggregator.clock import WIB
from aggregator.decide.scoring import Component, Score

_MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember",
)  # fmt: skip


@dataclass(frozen=True)
class Part:
    """One explained part of a yardstick before weights are rescaled; value None = unknown."""

    key: str
    label: str
    value: float | None
    weight: float
    reason: str


def combine(
    parts: Sequence[Part], *, penalty: float = 0.0, penalty_reason: str | None = None
) -> Score:
    """A `Score` from parts: unknown parts are left out and the other weights rescaled (unknown
    is not bad); `penalty` takes that share off the total, explained by `penalty_reason`."""
    known = sum(p.weight for p in parts if p.value is not None)
    components = []
    total = 0.0
    for p in parts:
        if p.value is None or known <= 0:
            reason = p.reason + " (tidak dihitung)"
            components.append(Component(p.key, p.label, None, p.weight, 0.0, reason))
            continue
        value = min(1.0, max(0.0, p.value))
        points = 100.0 * p.weight / known * value
        total += points
        components.append(
            Component(p.key, p.label, round(value, 3), p.weight, round(points, 1), p.reason)
        )
    if penalty > 0:
        total *= 1 - penalty
    return Score(round(total, 1), tuple(components), penalty_reason if penalty > 0 else None)


def tanggal(moment: datetime | date) -> str:
    """ "3 Januari 2026" (WIB for datetimes)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(WIB).date()
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def days_until(moment: datetime, now: datetime) -> int:
    """Whole days from `now` until `moment`, rounded down; negative once it has passed."""
    return (moment - now) // timedelta(days=1)


def local_year(now: datetime) -> int:
    return now.astimezone(WIB).year


def jsonable(value: Any) -> Any:
    """Frozen results as JSON-ready data: dataclasses to dicts, dates to ISO 8601 text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
