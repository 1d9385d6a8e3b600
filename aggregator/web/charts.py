"""Charts drawn on the server as inline SVG: no script, no CDN, nothing fetched by the browser.

Colours are presentation attributes (not `style=`) so the strict CSP needs no inline styles;
every chart is `role="img"` with a title and description, and pages show the data as a table.
Days reconstructed from a news archive (not measured) are drawn apart: a dashed, lighter
line and paler status cells, with RECONSTRUCTED_NOTE in the legend.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from aggregator.decide.status import STATUS_LABELS
from aggregator.web.formatting import angka, persen, tanggal_pendek

# Same hues as the status badges; all at least 3:1 against white (WCAG non-text contrast).
STATUS_COLOURS = {
    "active": "#2b8a3e",
    "low_activity": "#b08800",
    "inactive": "#6c757d",
    "unreachable": "#c92a2a",
    "compromised": "#5c0000",
    "no_site": "#adb5bd",
}
INK, GRID, MUTED = "#1f2933", "#d9dee3", "#52606d"

LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
RECONSTRUCTED_NOTE = "Pucat/putus-putus: direkonstruksi dari arsip berita"
RECONSTRUCTED_OPACITY = "0.45"
DASH = "6 4"
NOTE_HEIGHT = 18  # the line charts' note on reconstructed days, under the axis
MAX_DOTS = 120  # a line of more days is drawn without a dot per day (the table has them)


@dataclass(frozen=True)
class Series:
    """One line of a chart: a label for the legend and (day, value or None for a gap)."""

    label: str
    points: Sequence[tuple[date, float | None]]
    colour: str = "#0b6e4f"


def _svg_open(ident: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]


def _fmt(value: float, percent: bool) -> str:
    return persen(value) if percent else angka(value, 0 if value == int(value) else 1)


def _frame(
    days: Sequence[date], y_max: float, percent: bool, width: int, height: int
) -> tuple[list[str], float, float]:
    """Grid, y labels and x labels; returns the parts and the x step and plot height."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    parts = []
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
            f'fill="{MUTED}">{escape(_fmt(y_max * frac, percent))}</text>'
        )
    step = plot_w / max(1, len(days) - 1)
    if days:
        picks = sorted({0, len(days) // 2, len(days) - 1})
        for i, anchor in zip(picks, ("start", "middle", "end"), strict=False):
            if len(picks) == 1:
                anchor = "start"
            x = LEFT + step * i
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" font-size="13" '
                f'fill="{MUTED}">{escape(tanggal_pendek(days[i]))}</text>'
            )
    return parts, step, plot_h


def line_chart(
    ident: str,
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    y_max: float | None = None,
    percent: bool = False,
    width: int = 960,
    height: int = 200,
    reconstructed: Collection[date] = (),
) -> Markup:
    """Lines over days (shared x axis); gaps where a value is None. A segment that ends on
    a `reconstructed` day is dashed and lighter, with a note beneath the axis."""
    days = sorted({d for s in series for d, _ in s.points})
    values = [v for s in series for _, v in s.points if v is not None]
    top = y_max if y_max is not None else max([1.0, *values])
    past = set(reconstructed)
    noted = bool(past & set(days))
    parts = _svg_open(ident, title, desc, width, height + NOTE_HEIGHT * noted)
    frame, step, plot_h = _frame(days, top, percent, width, height)
    parts += frame
    index = {d: i for i, d in enumerate(days)}
    for s in series:
        paths: dict[bool, list[str]] = {False: [], True: []}  # measured, reconstructed
        previous: tuple[float, float] | None = None
        dots: list[str] = []
        for d, v in sorted(s.points):
            if v is None:
                previous = None
                continue
            x = LEFT + step * index[d] if len(days) > 1 else LEFT + (width - LEFT - RIGHT) / 2
            y = TOP + plot_h * (1 - min(v, top) / top)
            start = previous or (x, y)
            paths[d in past].append(f"M{start[0]:.1f} {start[1]:.1f}L{x:.1f} {y:.1f}")
            previous = (x, y)
            tip = f"{tanggal_pendek(d)}: {s.label} {_fmt(v, percent)}"
            if d in past:
                tip += " (direkonstruksi)"
            fade = f' fill-opacity="{RECONSTRUCTED_OPACITY}"' if d in past else ""
            if len(days) <= MAX_DOTS:
                dots.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.colour}"{fade}>'
                    f"<title>{escape(tip)}</title></circle>"
                )
        for faded, path in paths.items():
            if path:
                extra = (
                    f' stroke-dasharray="{DASH}" stroke-opacity="{RECONSTRUCTED_OPACITY}"'
                    if faded
                    else ""
                )
                parts.append(
                    f'<path d="{"".join(path)}" fill="none" stroke="{s.colour}" '
                    f'stroke-width="2"{extra}/>'
                )
        parts += dots
    if noted:
        parts.append(
            f'<path d="M{LEFT} {height + 6}h24" stroke="{MUTED}" stroke-width="2" '
            f'stroke-dasharray="{DASH}"/>'
            f'<text x="{LEFT + 30}" y="{height + 11}" font-size="13" '
            f'fill="{MUTED}">{escape(RECONSTRUCTED_NOTE)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    ident: str,
    points: Sequence[tuple[date, float | None]],
    *,
    title: str,
    desc: str,
    y_max: float = 1.0,
    percent: bool = True,
    colour: str = "#0b6e4f",
    width: int = 960,
    height: int = 160,
) -> Markup:
    """One bar per day; a day without data gets a short grey tick instead of a bar."""
    days = [d for d, _ in points]
    parts = _svg_open(ident, title, desc, width, height)
    frame, _, plot_h = _frame(days, y_max, percent, width, height)
    parts += frame
    slot = (width - LEFT - RIGHT) / max(1, len(points))
    bar_w = max(1.0, slot * 0.8)
    for i, (d, v) in enumerate(points):
        x = LEFT + slot * i + (slot - bar_w) / 2
        if v is None:
            tip = f"{tanggal_pendek(d)}: tidak ada data"
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - 2:.1f}" width="{bar_w:.1f}" height="2" '
                f'fill="{GRID}"><title>{escape(tip)}</title></rect>'
            )
            continue
        h = plot_h * min(max(v, 0.0), y_max) / y_max
        tip = f"{tanggal_pendek(d)}: {_fmt(v, percent)}"
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{max(h, 1.0):.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def status_strip(
    ident: str,
    days: Sequence[tuple[date, str]],
    *,
    title: str,
    desc: str,
    width: int = 960,
    height: int = 70,
    reconstructed: Collection[date] = (),
) -> Markup:
    """A band of one coloured cell per day (the status that day) with a legend beneath;
    `reconstructed` days are paler."""
    parts = _svg_open(ident, title, desc, width, height)
    slot = (width - LEFT - RIGHT) / max(1, len(days))
    past = set(reconstructed)
    for i, (d, status) in enumerate(days):
        label = STATUS_LABELS.get(status, status)
        if d in past:
            label += " (direkonstruksi)"
        fade = f' fill-opacity="{RECONSTRUCTED_OPACITY}"' if d in past else ""
        parts.append(
            f'<rect x="{LEFT + slot * i:.1f}" y="{TOP}" width="{slot + 0.3:.1f}" height="22" '
            f'fill="{STATUS_COLOURS.get(status, GRID)}"{fade}>'
            f"<title>{escape(f'{tanggal_pendek(d)}: {label}')}</title></rect>"
        )
    if days:
        for edge, d, anchor in ((LEFT, days[0][0], "start"), (width - RIGHT, days[-1][0], "end")):
            parts.append(
                f'<text x="{edge}" y="{TOP + 36}" text-anchor="{anchor}" font-size="13" '
                f'fill="{MUTED}">{escape(tanggal_pendek(d))}</text>'
            )
    x = float(LEFT)
    present = {s for _, s in days}
    for status in [s for s in STATUS_COLOURS if s in present]:
        label = STATUS_LABELS.get(status, status)
        parts.append(
            f'<rect x="{x:.1f}" y="{height - 14}" width="10" height="10" '
            f'fill="{STATUS_COLOURS.get(status, GRID)}"/>'
            f'<text x="{x + 14:.1f}" y="{height - 5}" font-size="13" fill="{INK}">'
            f"{escape(label)}</text>"
        )
        x += 26 + 8 * len(label)
    if past & {d for d, _ in days}:
        parts.append(
            f'<text x="{width / 2:.1f}" y="{TOP + 36}" text-anchor="middle" font-size="13" '
            f'fill="{MUTED}">{escape(RECONSTRUCTED_NOTE)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: Sequence[float], *, label: str, width: int = 120, height: int = 28) -> Markup:
    """A tiny trend line (no axes) for a table cell; its label says first and last value."""
    parts = [
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if len(values) >= 2:
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        step = (width - 4) / (len(values) - 1)
        pts = " ".join(
            f"{2 + step * i:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#0b6e4f" stroke-width="1.5"/>')
    elif values:
        parts.append(f'<circle cx="{width / 2}" cy="{height / 2}" r="2.5" fill="#0b6e4f"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
