"""Fewer points for the same picture: Douglas-Peucker per ring, then snapping to a grid.

A few dozen lines of plain Python do what the map needs (rings drawn at most ~1,000 px
wide), so no geometry library is installed for it. Tolerance and grid are in degrees; near
the equator one degree is about the same length along both axes (cos 11° > 0.98 over the
whole of Indonesia), so the distances below need no projection."""

from __future__ import annotations

from aggregator.geo.sqlfile import Point, Region, Ring


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return float(((px - ax) ** 2 + (py - ay) ** 2) ** 0.5)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    cx, cy = ax + t * dx, ay + t * dy
    return float(((px - cx) ** 2 + (py - cy) ** 2) ** 0.5)


def douglas_peucker(points: Ring, tolerance: float) -> Ring:
    """The open polyline `points` with every point closer than `tolerance` to the kept
    line dropped (iterative: no recursion limit on long rings)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _segment_distance(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return tuple(p for p, k in zip(points, keep, strict=True) if k)


def _far_point(ring: Ring) -> int:
    x0, y0 = ring[0]
    return max(range(len(ring)), key=lambda i: (ring[i][0] - x0) ** 2 + (ring[i][1] - y0) ** 2)


def simplify_ring(ring: Ring, tolerance: float, grid: float) -> Ring:
    """A closed ring simplified as two halves (split at the point farthest from the first,
    so neither half degenerates), snapped to `grid`, duplicates removed; () when fewer than
    three points are left."""
    if len(ring) < 3:
        return ()
    split = _far_point(ring)
    closed = (*ring, ring[0])
    half = douglas_peucker(closed[: split + 1], tolerance)
    other = douglas_peucker(closed[split:], tolerance)
    out: list[Point] = []
    for x, y in (*half, *other[1:-1]):
        snapped = (round(x / grid) * grid, round(y / grid) * grid)
        if not out or out[-1] != snapped:
            out.append(snapped)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return tuple(out) if len(set(out)) >= 3 else ()


def simplify_region(region: Region, tolerance: float, grid: float) -> Region | None:
    """The region with each ring simplified (rings that vanish are dropped); None if none is
    left."""
    rings = tuple(r for r in (simplify_ring(r, tolerance, grid) for r in region.rings) if r)
    if not rings:
        return None
    return Region(region.code, region.name, rings, region.label)
