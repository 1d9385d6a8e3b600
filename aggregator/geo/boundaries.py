"""Boundaries as Sipande keeps them: compact JSON files (integer coordinates on a grid,
each ring's points after the first as differences), shipped ones in the package
(aggregator/geo/data/) and imported ones in a folder beside the store. No database table:
the web pages read them once per process and again only when the folder changes."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from aggregator.geo.sqlfile import CODE_RE, Point, Region, Ring

log = logging.getLogger(__name__)

FORMAT = "sipande-boundaries/1"
SCALE = 10_000  # grid of 1e-4 degree, about 11 m: a pixel of a kecamatan map
TOLERANCE = 0.0001  # degrees (about 11 m) for Douglas-Peucker on import
LEVELS = {2: "provinsi", 5: "kabupaten", 8: "kecamatan", 13: "desa"}
ENV_DIR = "SIPANDE_BOUNDARIES_DIR"


def level_of(code: str) -> str:
    return LEVELS.get(len(code), "lain")


def _encode_ring(ring: Ring, scale: int) -> list[int]:
    out: list[int] = []
    px = py = 0
    for x, y in ring:
        ix, iy = round(x * scale), round(y * scale)
        out += [ix - px, iy - py]
        px, py = ix, iy
    return out


def encode(regions: Iterable[Region], *, source: str, licence: str, scale: int = SCALE) -> str:
    """The JSON text of a boundaries file (sorted by code, so files diff well)."""
    body: dict[str, Any] = {}
    for r in sorted(regions, key=lambda r: r.code):
        label = [round(r.label[0] * scale), round(r.label[1] * scale)] if r.label else None
        body[r.code] = [r.name, label, *[_encode_ring(ring, scale) for ring in r.rings]]
    head = {"format": FORMAT, "source": source, "licence": licence, "scale": scale}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "regions": {']
    lines += [
        f"{json.dumps(code)}: {json.dumps(value, ensure_ascii=False, separators=(',', ':'))},"
        for code, value in body.items()
    ]
    if len(lines) > 1:
        lines[-1] = lines[-1][:-1]
    return "\n".join([*lines, "}}"]) + "\n"


def _decode_ring(values: list[Any], scale: int) -> Ring:
    if len(values) % 2 or len(values) < 6 or not all(type(v) is int for v in values):
        raise ValueError("ring is not an even list of at least 6 integers")
    points: list[Point] = []
    x = y = 0
    for i in range(0, len(values), 2):
        x, y = x + values[i], y + values[i + 1]
        points.append((x / scale, y / scale))
    return tuple(points)


def decode(text: str) -> dict[str, Region]:
    """The regions of a boundaries file; ValueError if it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    scale = data.get("scale")
    if type(scale) is not int or scale <= 0:
        raise ValueError("bad scale")
    out: dict[str, Region] = {}
    for code, value in (data.get("regions") or {}).items():
        if not CODE_RE.match(code) or not isinstance(value, list) or len(value) < 3:
            raise ValueError(f"bad region {code[:20]!r}")
        name, label, *rings = value
        point = (label[0] / scale, label[1] / scale) if label else None
        out[code] = Region(code, str(name), tuple(_decode_ring(r, scale) for r in rings), point)
    return out


def boundaries_dir(database_url: str) -> Path:
    """Where imported boundaries live: $SIPANDE_BOUNDARIES_DIR, else `boundaries/` beside a
    SQLite store, else data/boundaries."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    url = make_url(database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        return Path(url.database).parent / "boundaries"
    return Path("data") / "boundaries"


@dataclass
class Boundaries:
    """Every loaded region by code, and how many regions lie under each code prefix."""

    regions: dict[str, Region] = field(default_factory=dict)
    under: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, regions: Mapping[str, Region]) -> None:
        for code, region in regions.items():
            if code not in self.regions:
                parts = code.split(".")
                for i in range(1, len(parts)):
                    key = ".".join(parts[:i]) + "/" + level_of(code)
                    self.under.setdefault(key, []).append(code)
            self.regions[code] = region

    def count(self, prefix: str, level: str) -> int:
        """Regions of `level` whose code starts with `prefix` (a whole code)."""
        return len(self.under.get(f"{prefix}/{level}", ()))

    def within(self, prefix: str, level: str) -> list[Region]:
        """Those regions, by code."""
        return [self.regions[c] for c in sorted(self.under.get(f"{prefix}/{level}", ()))]


def shipped_files() -> list[tuple[str, str]]:
    folder = resources.files("aggregator.geo").joinpath("data")
    return sorted(
        (p.name, p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".json")
    )


def load(folder: Path | None) -> Boundaries:
    """Shipped boundaries, then every file of `folder` over them; a bad file is skipped
    with a logged problem."""
    found = Boundaries()
    files = [(f"paket:{name}", text) for name, text in shipped_files()]
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                files.append((str(path), path.read_text("utf-8")))
            except OSError as e:
                found.problems.append(f"{path}: {e}")
    for name, text in files:
        try:
            found.add(decode(text))
        except (ValueError, TypeError, IndexError, KeyError) as e:
            found.problems.append(f"{name}: {e}")
    for problem in found.problems:
        log.warning("boundaries: %s", problem)
    return found


_cache: dict[str, tuple[tuple[Any, ...], Boundaries]] = {}
_lock = threading.Lock()


def _stamp(folder: Path) -> tuple[Any, ...]:
    try:
        return tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.json")
        )
    except OSError:
        return ()


def current(folder: Path) -> Boundaries:
    """`load(folder)`, kept while the folder's files are unchanged (one directory listing
    per call)."""
    stamp = _stamp(folder)
    key = str(folder)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        loaded = load(folder)
        _cache[key] = (stamp, loaded)
        return loaded
