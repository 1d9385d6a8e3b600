"""OpenSID release strings: kept as the site states them, compared at patch level.

VERSION was "YY.MM" up to 23.04 and "YYMM.B.F" from 2305.0.0 (B a beta counter, F a bugfix
counter, so "2407.0.1" is a patch release of 2407); premium builds append "-premium". The
footer, the admin login page and Blade asset urls print the whole string; the feed's
`dc:rights` and the inline `current_version` give only "YY.MM". A release is reported in the
most exact form any of its sources gives (docs/design.md, "OpenSID versions").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_RELEASE = re.compile(
    r"\s*v?\s*(?:pasca-)?(\d{2})(?:\.(\d{1,2})|(\d{2}))"
    r"(?:\.(\d{1,3})\.(\d{1,3})|\.\d{1,3})?(?!\d)(-premium)?",
    re.IGNORECASE,
)
FIRST_YYMM_RELEASE = (23, 5)  # 2305.0.0: the first VERSION in the YYMM.B.F form


def _parts(raw: str | None) -> tuple[int, int, int | None, int | None, bool] | None:
    m = _RELEASE.match(raw or "")
    if m is None:
        return None
    year, month = int(m[1]), int(m[2] or m[3])
    if not (16 <= year <= 99 and 1 <= month <= 12):
        return None
    beta = int(m[4]) if m[4] is not None else None
    fix = int(m[5]) if m[5] is not None else None
    return year, month, beta, fix, bool(m[6])


def month_version(raw: str | None) -> str | None:
    """The release month as `current_version` prints it: "2410.0.1-premium" → "24.10"."""
    parts = _parts(raw)
    return None if parts is None else f"{parts[0]:02d}.{parts[1]:02d}"


def exact_version(raw: str | None) -> str | None:
    """The release as the site states it, in one spelling: "v2410.0.0" → "2410.0.0",
    "2407.0.1-premium" stays, "21.1" → "21.01", a month-only "24.10" stays "24.10"."""
    parts = _parts(raw)
    if parts is None:
        return None
    year, month, beta, fix, premium = parts
    if (year, month) >= FIRST_YYMM_RELEASE and beta is not None:
        return f"{year:02d}{month:02d}.{beta}.{fix}" + ("-premium" if premium else "")
    return f"{year:02d}.{month:02d}"


def version_key(version: str | None) -> tuple[int, int, int, int]:
    """Sort key at patch level; an unknown patch counts as .0.0, an unparsable string lowest."""
    parts = _parts(version)
    if parts is None:
        return (0, 0, 0, 0)
    year, month, beta, fix, _premium = parts
    return year, month, beta or 0, fix or 0


def is_exact(version: str | None) -> bool:
    """Whether the string names a release to the patch ("2410.0.0"), not only its month."""
    parts = _parts(version)
    return parts is not None and parts[2] is not None


def most_exact(candidates: Iterable[str | None]) -> str | None:
    """The first candidate's release, in the most exact form any candidate of the same
    month gives (the footer may be missing where an asset url still names the patch)."""
    found = [v for v in (exact_version(c) for c in candidates) if v]
    if not found:
        return None
    first = found[0]
    month = month_version(first)
    return next((v for v in found if is_exact(v) and month_version(v) == month), first)
