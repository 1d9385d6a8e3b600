"""Jinja filters: dates in WIB and numbers in Bahasa Indonesia, through Babel's CLDR data."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal

from aggregator.clock import WIB, parse_when

LOCALE = "id"


def to_wib(value: str | datetime | None) -> datetime | None:
    dt = parse_when(value)
    return dt.astimezone(WIB) if dt else None


def tanggal(value: str | datetime | None, with_time: bool = False) -> str:
    """`Kamis, 23 Januari 2025` or `Kamis, 23 Januari 2025 10.12 WIB`; "–" for nothing."""
    local = to_wib(value)
    if local is None:
        return "–"
    if with_time:
        return format_datetime(local, "EEEE, d MMMM y HH.mm", tzinfo=WIB, locale=LOCALE) + " WIB"
    return format_date(local.date(), "full", locale=LOCALE)


def tanggal_pendek(value: str | datetime | date | None, with_time: bool = False) -> str:
    """`23 Jan 2025` (or `23 Jan 2025 10.12`) for dense tables."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return _short_date(value)
    local = to_wib(value)
    if local is None:
        return "–"
    if with_time:
        return format_datetime(local, "d MMM y HH.mm", tzinfo=WIB, locale=LOCALE)
    return _short_date(local.date())


@lru_cache(maxsize=4096)
def _short_date(day: date) -> str:
    """A day as `23 Jan 2025`, remembered: a page of 250 villages and a 90-day chart write
    the same few days again and again, and Babel takes ~20 µs for each."""
    return format_date(day, "d MMM y", locale=LOCALE)


def sejak(value: str | datetime | None, now: datetime | None = None) -> str:
    """How long ago, in Bahasa Indonesia: `baru saja`, `5 menit yang lalu`, `3 hari yang lalu`."""
    dt = parse_when(value)
    if dt is None:
        return "belum pernah"
    delta = dt - (now or datetime.now(UTC))
    if delta > timedelta(minutes=1):
        return "akan datang"
    if delta > timedelta(minutes=-1):
        return "baru saja"
    return format_timedelta(delta, add_direction=True, locale=LOCALE)


_QUANTUM = [Decimal(1).scaleb(-d) for d in range(10)]
_ID_SEPARATORS = str.maketrans({",": ".", ".": ","})


def angka(value: float | int | None, digits: int = 0) -> str:
    """`1.234` or `71,5`: Indonesian grouping and decimal comma; "–" for unknown."""
    if value is None:
        return "–"
    if type(value) is int and not digits:  # Babel's answer, 30 times faster
        return f"{value:,}".replace(",", ".")
    if type(value) is float and math.isfinite(value):
        # Babel's answer too: the float's shortest decimal, rounded half to even.
        exact = Decimal(repr(value)).quantize(_QUANTUM[digits], rounding=ROUND_HALF_EVEN)
        return f"{exact:,.{digits}f}".translate(_ID_SEPARATORS)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def persen(share: float | None, digits: int = 0) -> str:
    """A 0..1 share as `95%` / `95,3%`; "–" for unknown."""
    if share is None:
        return "–"
    return angka(share * 100, digits) + "%"


def days_since(value: str | datetime | None, now: datetime) -> int | None:
    dt = parse_when(value)
    return None if dt is None else max(0, int((now - dt).total_seconds() // 86400))
