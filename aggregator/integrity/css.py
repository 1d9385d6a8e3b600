"""Just enough CSS to tell hidden and tiny elements from static HTML: inline `style=`,
simple `.class` / `#id` / `tag` rules of `<style>` blocks (P2), and colours (text = background).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_DECL = re.compile(r"([-a-zA-Z]+)\s*:\s*([^;]+)")
_COMPOUND = re.compile(r"^([a-z][a-z0-9]*)?((?:[.#][-\w]+)*)$")
_LENGTH = re.compile(r"^(-?\d*\.?\d+)(px|pt|em|rem)?$")
_COLOR_NAMES = {"white": "#ffffff", "black": "#000000", "transparent": "transparent"}
_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})\b")
_RGB = re.compile(r"rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)\s*(?:[,/]\s*([\d.]+%?))?\s*\)")
_OFFSETS = ("left", "top", "right", "bottom", "margin-left", "margin-top", "text-indent")
TINY_PX = 10.0  # P3: sponsor strips in 8–9px type
_INTERESTING = frozenset(
    {"display", "visibility", "opacity", "font-size", "height", "max-height", "width", "clip",
     "clip-path", "color", "background", "background-color", *_OFFSETS}
)  # fmt: skip


@dataclass(frozen=True)
class StyleRule:
    """One simple selector of a `<style>` block with its declarations."""

    selector: str  # as written, for evidence
    tag: str | None
    classes: frozenset[str]
    element_id: str | None
    declarations: Mapping[str, str]


def declarations(style: str) -> dict[str, str]:
    """`a: b; c: d !important` → {"a": "b", "c": "d"} with lower-cased names and values."""
    out: dict[str, str] = {}
    for name, value in _DECL.findall(style):
        out[name.lower()] = value.lower().replace("!important", "").strip()
    return out


def parse_stylesheet(css: str) -> list[StyleRule]:
    """Rules that can hide, shrink or colour something; complex selectors are reduced to their
    last compound (`.footer .wdg-xx9` → `.wdg-xx9`); pseudo-classes and attributes skipped."""
    rules: list[StyleRule] = []
    for selectors, body in _RULE.findall(_COMMENT.sub("", css)):
        decls = declarations(body)
        if not decls.keys() & _INTERESTING:
            continue
        for selector in selectors.split(","):
            selector = selector.strip()
            last = re.split(r"[\s>+~]+", selector)[-1].lower() if selector else ""
            m = _COMPOUND.match(last)
            if not last or m is None or last.startswith("@"):
                continue
            parts = re.findall(r"[.#][-\w]+", m.group(2) or "")
            classes = frozenset(p[1:] for p in parts if p[0] == ".")
            ids = [p[1:] for p in parts if p[0] == "#"]
            if m.group(1) is None and not parts:
                continue
            rule = StyleRule(selector, m.group(1), classes, ids[0] if ids else None, decls)
            rules.append(rule)
    return rules


def matching(
    rules: Iterable[StyleRule], tag: str, classes: frozenset[str], element_id: str | None
) -> list[StyleRule]:
    return [
        r
        for r in rules
        if (r.tag is None or r.tag == tag)
        and r.classes <= classes
        and (r.element_id is None or r.element_id == element_id)
    ]


def _px(value: str) -> float | None:
    m = _LENGTH.match(value.strip().split()[0]) if value.strip() else None
    if m is None:
        return None
    number = float(m.group(1))
    return number * {"pt": 1.33, "em": 16.0, "rem": 16.0}.get(m.group(2) or "px", 1.0)


def color(value: str) -> str | None:
    """A colour as `#rrggbb` (or "transparent"), from a colour or `background` shorthand."""
    for word in value.split():
        if word in _COLOR_NAMES:
            return _COLOR_NAMES[word]
    if m := _HEX.search(value):
        h = m.group(1)
        return "#" + (h if len(h) == 6 else "".join(c * 2 for c in h))
    if m := _RGB.search(value):
        alpha = m.group(4)
        if alpha is not None and float(alpha.rstrip("%")) == 0:
            return "transparent"
        return "#" + "".join(f"{min(255, int(m.group(i))):02x}" for i in (1, 2, 3))
    return None


def background(decls: Mapping[str, str]) -> str | None:
    value = decls.get("background-color") or decls.get("background")
    found = color(value) if value else None
    return None if found == "transparent" else found


def hiding_reason(decls: Mapping[str, str], inherited_background: str) -> str | None:
    """Why these declarations hide an element (P1/P2 variants), or None."""
    overflow_hidden = decls.get("overflow", "").startswith("hidden")
    if decls.get("display", "").startswith("none"):
        return "display:none"
    if decls.get("visibility", "").startswith(("hidden", "collapse")):
        return "visibility:hidden"
    if (opacity := decls.get("opacity")) is not None and _px(opacity) == 0:
        return "opacity:0"
    if (size := _px(decls.get("font-size", ""))) is not None and size <= 1:
        return f"font-size:{decls['font-size']}"
    for prop in ("height", "max-height", "width"):
        px = _px(decls.get(prop, ""))
        if px is not None and px <= 1 and overflow_hidden:
            return f"{prop}:{decls[prop]};overflow:hidden"
    for prop in _OFFSETS:
        px = _px(decls.get(prop, ""))
        if px is not None and px <= -500:
            return f"{prop}:{decls[prop]}"
    clip = decls.get("clip", "") + decls.get("clip-path", "")
    if re.search(r"rect\(\s*0(px)?[\s,]+0|inset\(\s*(50|100)%", clip):
        return f"clip:{clip}"
    fg = color(decls["color"]) if "color" in decls else None
    if fg == "transparent":
        return "color:transparent"
    if fg is not None and fg == (background(decls) or inherited_background):
        return f"color {fg} on background {fg}"
    return None


def is_tiny(decls: Mapping[str, str]) -> bool:
    """P3: visible but in type too small to read."""
    size = _px(decls.get("font-size", ""))
    return size is not None and size <= TINY_PX
