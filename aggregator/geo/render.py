"""A map drawn on the server as inline SVG: regions projected to a fixed-width viewBox,
each one a link with an accessible title, coloured by a CSS class (the strict CSP allows
our stylesheet, no inline style, no script). Geometry is projected and simplified once per
set of regions and kept; only links, titles and classes change per request."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from aggregator.geo.simplify import douglas_peucker
from aggregator.geo.sqlfile import Point, Region

WIDTH = 1000
MAX_HEIGHT = 1100
PAD = 6
# Dropped when closer than this to the simplified line, in viewBox units (about a pixel).
RENDER_TOLERANCE = 0.8


@dataclass(frozen=True)
class Area:
    """One region on the map: its link, the title a person and a screen reader get, the
    colour class and, where wanted, the name written on the map."""

    code: str
    href: str
    title: str
    css: str
    label: str = ""


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    paths: dict[str, str]
    labels: dict[str, tuple[int, int]]
    background: str = ""  # one path: the neighbours that are not on the map as links


def _project(regions: Sequence[Region]) -> tuple[float, float, float, float, int, int]:
    xs = [x for r in regions for ring in r.rings for x, _ in ring]
    ys = [y for r in regions for ring in r.rings for _, y in ring]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    k = math.cos(math.radians((y0 + y1) / 2))
    span_x, span_y = max((x1 - x0) * k, 1e-9), max(y1 - y0, 1e-9)
    scale = (WIDTH - 2 * PAD) / span_x
    if span_y * scale > MAX_HEIGHT - 2 * PAD:
        scale = (MAX_HEIGHT - 2 * PAD) / span_y
    width = round(span_x * scale) + 2 * PAD
    height = round(span_y * scale) + 2 * PAD
    return x0, y1, k * scale, scale, width, height


def _path(rings: Sequence[Sequence[Point]]) -> str:
    """Integer viewBox coordinates: absolute first point, then relative steps."""
    parts: list[str] = []
    for ring in rings:
        px, py = ring[0]
        cmd = [f"M{px:.0f} {py:.0f}l"]
        steps: list[str] = []
        for x, y in ring[1:]:
            dx, dy = round(x) - round(px), round(y) - round(py)
            if dx or dy:
                steps.append(f"{dx} {dy}")
                px, py = x, y
        if len(steps) >= 2:
            parts.append(cmd[0] + " ".join(steps) + "z")
    return "".join(parts)


def geometry(regions: Sequence[Region], background: Sequence[Region] = ()) -> Geometry:
    """Every region projected (equirectangular around the middle latitude, north up) into
    a WIDTH-wide viewBox and simplified to about a pixel; `background` regions are drawn
    as one unlinked shape behind them."""
    x0, y1, sx, sy, width, height = _project([*regions, *background])
    paths: dict[str, str] = {}
    labels: dict[str, tuple[int, int]] = {}
    for r in [*regions, *background]:
        rings = []
        for ring in r.rings:
            moved = tuple(((x - x0) * sx + PAD, (y1 - y) * sy + PAD) for x, y in ring)
            closed = douglas_peucker((*moved, moved[0]), RENDER_TOLERANCE)[:-1]
            if len(closed) >= 3:
                rings.append(closed)
        paths[r.code] = _path(rings) if rings else ""
        if r.label:
            lx, ly = r.label
            labels[r.code] = (round((lx - x0) * sx + PAD), round((y1 - ly) * sy + PAD))
    behind = "".join(paths.pop(r.code, "") for r in background)
    return Geometry(width, height, paths, labels, behind)


_cache: dict[tuple[str, ...], tuple[tuple[Region, ...], Geometry]] = {}
_lock = threading.Lock()
CACHE_SIZE = 256


def cached_geometry(regions: Sequence[Region], background: Sequence[Region] = ()) -> Geometry:
    every = (*regions, *background)
    key = (*(r.code for r in regions), "|", *(r.code for r in background))
    with _lock:
        hit = _cache.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], every, strict=True)):
        return hit[1]
    made = geometry(regions, background)
    with _lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (every, made)
    return made


def render_map(
    ident: str,
    areas: Sequence[tuple[Area, Region]],
    *,
    title: str,
    desc: str,
    background: Sequence[Region] = (),
) -> Markup:
    """The SVG of `areas`, in their order, over the unlinked `background` regions (those
    not among the areas); names written where an Area has a label."""
    if not areas:
        return Markup("")
    drawn = {region.code for _, region in areas}
    behind = [r for r in background if r.code not in drawn]
    geo = cached_geometry([region for _, region in areas], behind)
    parts = [
        f'<svg class="map" id="{escape(ident)}" viewBox="0 0 {geo.width} {geo.height}" '
        f'role="group" aria-labelledby="{escape(ident)}-t {escape(ident)}-d" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(ident)}-t">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-d">{escape(desc)}</desc>',
    ]
    if geo.background:
        parts.append(f'<path class="map-bg" aria-hidden="true" d="{geo.background}"/>')
    texts: list[str] = []
    for area, region in areas:
        d = geo.paths.get(region.code)
        if not d:
            continue
        parts.append(
            f'<a href="{escape(area.href)}" class="{escape(area.css)}" '
            f'aria-label="{escape(area.title)}" data-code="{escape(area.code)}">'
            f'<title>{escape(area.title)}</title><path d="{d}"/></a>'
        )
        at = geo.labels.get(region.code)
        if area.label and at:
            texts.append(f'<text x="{at[0]}" y="{at[1]}">{escape(area.label)}</text>')
    if texts:
        parts.append('<g class="map-labels" aria-hidden="true">' + "".join(texts) + "</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
