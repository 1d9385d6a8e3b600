"""How far a site's OpenSID release is behind the newest known one, from the release list kept
as data (`opensid_releases.csv`: version as OpenSID prints it, line umum|premium, date).

OpenSID releases on the 1st of every month: YY.MM up to 23.04, then YYMM.B.F, with patch
releases such as 2407.0.1 in between (connectors.opensid_version); releases are compared at
patch level. Premium gets each release about six months before umum, so a site is compared
with the newest release of its own line; add a row to the file when a release comes out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources

from connectors.opensid_version import exact_version, is_exact, month_version, version_key

RELEASES_FILE = "opensid_releases.csv"
LINES = ("umum", "premium")


@dataclass(frozen=True)
class Release:
    version: str  # as OpenSID prints it: "2410.0.0", "21.01"
    line: str  # umum | premium
    released: date


@dataclass(frozen=True)
class VersionCheck:
    """A site's release against the newest known release of its line."""

    version: str  # as the site states it: "2410.0.0" (or "24.10" when only the month is known)
    label: str  # as village admins know it: "2410.0.0", "2410" (month only), "21.01"
    line: str  # umum | premium (a release newer than the newest umum can only be premium)
    newest: str  # the newest known release of that line
    newest_label: str
    behind: int  # releases of the line published after the site's one
    released: date | None  # when the site's release came out, if listed
    newer_than_list: bool = False  # the list is out of date: the site runs a newer release


def release_label(version: str) -> str:
    """ "2407.0.1" stays; a month-only "24.07" → "2407" (VERSION since 2305.0.0); "21.01"
    stays "21.01" (YY.MM until 23.04)."""
    if is_exact(version):
        return version
    yy, mm = (month_version(version) or version).split(".")
    return f"{yy}{mm}" if (int(yy), int(mm)) >= (23, 5) else f"{yy}.{mm}"


_key = version_key


def parse_releases(text: str) -> tuple[Release, ...]:
    """Rows of the release file, oldest first; raises ValueError on a bad row."""
    out = []
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        version = exact_version(row.get("version"))
        line = (row.get("line") or "").strip()
        if version is None or line not in LINES:
            raise ValueError(f"{RELEASES_FILE} line {number}: bad version or line: {row}")
        out.append(Release(version, line, date.fromisoformat((row.get("released") or "").strip())))
    return tuple(sorted(out, key=lambda r: (_key(r.version), r.line)))


def load_releases() -> tuple[Release, ...]:
    """The release list shipped with the package."""
    text = resources.files(__package__).joinpath(RELEASES_FILE).read_text(encoding="utf-8")
    return parse_releases(text)


def check_version(version: str | None, releases: Sequence[Release]) -> VersionCheck | None:
    """How far `version` (any form the site prints: "2407.0.0", "24.07") is behind; None when
    the version is unknown or the list is empty."""
    current = exact_version(version)
    umum = [r for r in releases if r.line == "umum"]
    if current is None or not releases or not umum:
        return None
    newest_umum = max(umum, key=lambda r: _key(r.version))
    # A release newer than every umum one can only be premium (the version string we get
    # has lost its "-premium" suffix).
    premium = current.endswith("-premium") or _key(current) > _key(newest_umum.version)
    line = "premium" if premium else "umum"
    same_line = [r for r in releases if r.line == line] or umum
    newest = max(same_line, key=lambda r: _key(r.version))
    behind = sum(1 for r in same_line if _key(r.version) > _key(current))
    month = month_version(current)
    released = next((r.released for r in releases if r.version == current), None) or next(
        (r.released for r in releases if month_version(r.version) == month), None
    )
    return VersionCheck(
        version=current,
        label=release_label(current),
        line=line,
        newest=newest.version,
        newest_label=release_label(newest.version),
        behind=behind,
        released=released,
        newer_than_list=_key(current) > _key(newest.version),
    )
