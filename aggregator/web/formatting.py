"""Jinja filters: dates in WIB with Indonesian month names, relative ages in Bahasa Indonesia."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def _parse(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def tanggal(value: str | datetime | None, with_time: bool = False) -> str:
    """`5 September 2026` or `5 September 2026 07.30 WIB`; "–" for nothing."""
    dt = _parse(value)
    if dt is None:
        return "–"
    local = dt.astimezone(WIB)
    text = f"{local.day} {MONTHS[local.month - 1]} {local.year}"
    return f"{text} {local:%H.%M} WIB" if with_time else text


def sejak(value: str | datetime | None, now: datetime | None = None) -> str:
    """How long ago, in Bahasa Indonesia: `baru saja`, `5 menit lalu`, `3 hari lalu`."""
    dt = _parse(value)
    if dt is None:
        return "belum pernah"
    seconds = ((now or datetime.now(UTC)) - dt).total_seconds()
    if seconds < 0:
        return "akan datang"
    for unit, size in (("tahun", 365 * 86400), ("bulan", 30 * 86400), ("hari", 86400),
                       ("jam", 3600), ("menit", 60)):  # fmt: skip
        if seconds >= size:
            return f"{int(seconds // size)} {unit} lalu"
    return "baru saja"
