"""Reading the `wilayah_boundaries` dataset's .sql files as text: never executed, never
handed to a database. Each row of its INSERT statements (one row a line, as the dataset
writes them) is tokenised here, its `path` column (JSON rings of [lat, lng] points) checked
point by point; a bad row becomes a recorded problem with its line number and every other
row still loads."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

TABLE = "wilayah_boundaries"
# A row line is bounded: the largest village polygon of the dataset is well under 1 MB.
MAX_LINE = 8_000_000
MAX_POINTS = 200_000  # per region, over all its rings
CODE_RE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
INSERT_RE = re.compile(
    r"^\s*INSERT\s+INTO\s+`?(\w+)`?\s*\(([^)]*)\)\s*VALUES\s*(.*)$", re.IGNORECASE | re.DOTALL
)
NUMBER_RE = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")

Point = tuple[float, float]  # (lng, lat): x then y
Ring = tuple[Point, ...]


@dataclass(frozen=True)
class Region:
    """One region's boundary: outer rings and holes alike (drawn even-odd)."""

    code: str
    name: str
    rings: tuple[Ring, ...]
    label: Point | None = None  # the dataset's centroid, where it gave one


@dataclass
class ParseResult:
    regions: dict[str, Region] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "baris N: ..." lines


class RowError(ValueError):
    pass


def _tokens(text: str) -> list[object]:
    """The values of one `( ... )` row: str, float or None; RowError on anything else."""
    i, n = 0, len(text)
    while i < n and text[i].isspace():
        i += 1
    if i >= n or text[i] != "(":
        raise RowError("baris data tidak diawali '('")
    i += 1
    values: list[object] = []
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise RowError("baris data terpotong")
        ch = text[i]
        if ch == "'":
            out: list[str] = []
            i += 1
            while True:
                j = text.find("'", i)
                k = text.find("\\", i)
                if j < 0:
                    raise RowError("teks tanpa tanda kutip penutup")
                if 0 <= k < j:
                    out.append(text[i:k] + text[k + 1 : k + 2])
                    i = k + 2
                    continue
                out.append(text[i:j])
                if text.startswith("''", j):
                    out.append("'")
                    i = j + 2
                    continue
                i = j + 1
                break
            values.append("".join(out))
        elif text.startswith("NULL", i) or text.startswith("null", i):
            values.append(None)
            i += 4
        else:
            m = NUMBER_RE.match(text, i)
            if not m:
                raise RowError(f"nilai tidak dikenal di kolom {len(values) + 1}")
            values.append(float(m.group()))
            i = m.end()
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == ",":
            i += 1
            continue
        if i < n and text[i] == ")":
            rest = text[i + 1 :].strip()
            if rest not in ("", ",", ";"):
                raise RowError("teks tambahan setelah ')'")
            return values
        raise RowError("pemisah kolom tidak dikenal")


def _number(value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError("koordinat bukan angka")
    f = float(value)
    if not math.isfinite(f) or not lo <= f <= hi:
        raise RowError(f"koordinat di luar batas: {f!r}")
    return f


def _ring(raw: object) -> Ring:
    if not isinstance(raw, list):
        raise RowError("cincin poligon bukan daftar titik")
    points: list[Point] = []
    for p in raw:
        if not isinstance(p, list) or len(p) != 2:
            raise RowError("titik bukan pasangan [lat, lng]")
        point = (_number(p[1], -180, 180), _number(p[0], -90, 90))
        if not points or points[-1] != point:
            points.append(point)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return tuple(points)


def _depth(value: object) -> int:
    d = 0
    while isinstance(value, list) and value:
        value, d = value[0], d + 1
    return d


def parse_path(text: str) -> tuple[Ring, ...]:
    """The rings of a `path` value: a polygon [[[lat,lng],...],...] or a multipolygon one
    level deeper. Rings of fewer than three distinct points are dropped."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise RowError(f"path bukan JSON yang sah ({type(e).__name__})") from None
    depth = _depth(raw)
    if depth == 3:
        polygons = [raw]
    elif depth == 4:
        polygons = raw
    else:
        raise RowError(f"path bukan poligon (kedalaman {depth})")
    rings: list[Ring] = []
    total = 0
    for polygon in polygons:
        if not isinstance(polygon, list):
            raise RowError("poligon bukan daftar cincin")
        for raw_ring in polygon:
            ring = _ring(raw_ring)
            total += len(ring)
            if total > MAX_POINTS:
                raise RowError(f"lebih dari {MAX_POINTS} titik")
            if len(ring) >= 3:
                rings.append(ring)
    if not rings:
        raise RowError("tidak ada cincin dengan minimal tiga titik")
    return tuple(rings)


def _region(columns: list[str], values: list[object]) -> Region:
    if len(values) != len(columns):
        raise RowError(f"{len(values)} nilai untuk {len(columns)} kolom")
    row = dict(zip(columns, values, strict=True))
    code, name, path = row.get("kode"), row.get("nama"), row.get("path")
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise RowError(f"kode wilayah tidak sah: {str(code)[:20]!r}")
    if not isinstance(path, str):
        raise RowError(f"{code}: kolom path kosong")
    name = name if isinstance(name, str) else ""
    try:
        rings = parse_path(path)
        lat, lng = row.get("lat"), row.get("lng")
        label = None
        if lat is not None and lng is not None:
            label = (_number(lng, -180, 180), _number(lat, -90, 90))
    except RowError as e:
        raise RowError(f"{code}: {e}") from None
    return Region(code, name[:100], rings, label)


def parse_sql(lines: Iterable[str]) -> ParseResult:
    """Every boundary row of a dataset file (its lines), and a problem per bad row."""
    result = ParseResult()
    columns: list[str] | None = None
    in_comment = False
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if in_comment:
            in_comment = "*/" not in text
            continue
        if text.startswith("/*"):
            in_comment = "*/" not in text
            continue
        if not text or text.startswith("--"):
            continue
        if len(line) > MAX_LINE:
            result.problems.append(f"baris {number}: terlalu panjang, dilewati")
            continue
        m = INSERT_RE.match(text)
        if m:
            table, cols, text = m.group(1), m.group(2), m.group(3).strip()
            names = [c.strip().strip('`"').lower() for c in cols.split(",")]
            columns = names if table.lower() == TABLE and "kode" in names else []
            if not columns:
                result.problems.append(f"baris {number}: INSERT ke tabel lain ({table}) diabaikan")
            if not text:
                continue
        if not text.startswith("("):
            continue  # DELETE, DROP, CREATE, SET...: statements about a database, not data
        if columns is None:
            result.problems.append(f"baris {number}: baris data sebelum INSERT, dilewati")
            continue
        if not columns:
            continue
        try:
            region = _region(columns, _tokens(text))
        except RowError as e:
            result.problems.append(f"baris {number}: {e}")
            continue
        if region.code in result.regions:
            result.problems.append(
                f"baris {number}: {region.code} muncul lagi; yang terakhir dipakai"
            )
        result.regions[region.code] = region
    return result
