"""The WIB clock and the ISO-date helpers: the one home of both.

Times are stored in UTC; a day means the calendar day in WIB (UTC+7 all year, a fixed
offset that needs no tz database), which is the day a Purbalingga officer means.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aggregator.types import WIB as WIB  # defined beside the data connectors share

WIB_OFFSET = WIB.utcoffset(None)


def wib_day(moment: datetime) -> date:
    """The calendar day in WIB of a UTC moment."""
    return moment.astimezone(WIB).date()


def wib_day_start(day: date) -> datetime:
    """00:00 WIB of `day`, in UTC."""
    return datetime.combine(day, datetime.min.time(), UTC) - WIB_OFFSET


def iso(value: datetime | None) -> str | None:
    """ISO text of a datetime, None for nothing (the JSON API's time fields)."""
    return value.isoformat() if value else None


def parse_when(value: Any) -> datetime | None:
    """An aware datetime from an ISO string or a datetime (naive ones are UTC, as stored);
    None for nothing."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_stored(value: Any) -> str | None:
    """ISO text in UTC of a timestamp as the database returned it (datetime or SQLite text)."""
    moment = parse_when(value)
    return moment.astimezone(UTC).isoformat() if moment else None


def as_date(value: date | str) -> date:
    """A date as the database returned it (a date, or SQLite's ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def phase_of(key: str) -> float:
    """A fraction in [0, 1) fixed for `key` (a village code): where in each period its
    periodic reads fall."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest()) / 2**32


def read_recently(at: datetime, every: float, now: datetime, phase: float) -> bool:
    """Whether something read at `at` needs no new read at `now`, for a part read once
    every `every` seconds at the owner's own slot of each period (`phase`, see phase_of).

    The next read is due at the owner's first slot at least half a period after the last
    read. So a district whose villages were all first read in the same pass (a morning's
    onboarding) is spread over the period after one cycle: no later pass carries every
    village's home page, service pages or integrity scan at once. Two reads are at least
    half a period and less than one and a half apart; in steady state exactly a period.
    """
    if now < at:  # a clock moved back: read again
        return False
    offset = phase * every
    earliest = at.timestamp() + every / 2
    due = math.ceil((earliest - offset) / every) * every + offset  # first slot ≥ earliest
    return now.timestamp() < due


def settling(first: datetime, spread: float, now: datetime, phase: float) -> bool:
    """Whether a village first polled at `first` is still before its own slot (`phase`) of
    the `spread` seconds after that poll. Until then the parts it has never read, its service
    pages and its first integrity scan, wait, so a district onboarded in one morning does not
    ask every site for everything in one pass; the news, the home page and the backfill are
    read at once. `spread` 0: nothing waits."""
    if spread <= 0:
        return False
    return read_recently(first - timedelta(seconds=spread / 2), spread, now, phase)
