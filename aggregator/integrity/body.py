"""The body walk of the page model: visible and UGC text, visible links with their
place (chrome, tiny), hidden blocks (P1 inline style, P2 style-block class), linked headings (P4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

from selectolax.lexbor import LexborHTMLParser, LexborNode

from aggregator.integrity import css
from aggregator.integrity import vocabulary as vocab
from connectors.normalise import normalise_url

_SKIP = frozenset({"script", "style", "template", "head", "title", "meta", "link", "iframe"})
_CHROME_TAGS = frozenset({"header", "footer", "nav", "aside"})
_UGC_EXACT = frozenset({"comment", "comments", "comments-area", "commentlist", "disqus_thread"})
_SPECIAL_TAGS = frozenset({*_CHROME_TAGS, "noscript", "marquee", "h1", "h2", "h3", "h4"})
_EXEMPT_MARKERS = (*vocab.HIDDEN_UI, "tabpanel", "dialog")
# Whether any of the markers occurs in an element's classes, id and role (one search each
# instead of one substring test per marker: most elements of a real page carry a class).
_EXEMPT_ANY = re.compile("|".join(re.escape(m) for m in _EXEMPT_MARKERS))
_CHROME_ANY = re.compile("|".join(re.escape(m) for m in vocab.CHROME_MARKERS))


@dataclass(frozen=True)
class Link:
    href: str  # absolute
    text: str
    selector: str
    chrome: bool = False  # header / footer / nav / sidebar / widget (P3)
    tiny: bool = False  # font-size ≤ 10px or inside <marquee> (P3)
    ugc: bool = False  # comments, or rel="ugc" (G3)


@dataclass(frozen=True)
class HiddenBlock:
    """The outermost hidden element of a subtree (P1, P2), with its text and links."""

    selector: str
    reason: str  # "inline style display:none", "style-block rule .wdg-xx9 {bottom:-800px}"
    text: str
    links: tuple[Link, ...]
    exempt: bool  # G5 hidden UI (menus, screen-reader text): only matters when not gambling


@dataclass(frozen=True)
class Heading:
    """A linked heading in the body: a post title in a listing (P4)."""

    title: str
    url: str


@dataclass(frozen=True)
class Body:
    """What the walk collected."""

    text: tuple[str, ...]
    ugc_text: tuple[str, ...]
    links: tuple[Link, ...]
    hidden: tuple[HiddenBlock, ...]
    headings: tuple[Heading, ...]


def walk_body(tree: LexborHTMLParser, url: str) -> Body:
    walk = _Walk(url, stylesheet(tree))
    if tree.body is not None:
        walk.run(tree.body)
    return Body(
        tuple(walk.text),
        tuple(walk.ugc_text),
        tuple(walk.links),
        tuple(walk.hidden),
        tuple(walk.headings),
    )


def node_text(node: LexborNode) -> str:
    return " ".join(node.text(separator=" ").split())


def stylesheet(tree: LexborHTMLParser) -> Mapping[str, list[css.StyleRule]]:
    """`<style>` rules indexed by the class, id or tag they need (P2)."""
    index: dict[str, list[css.StyleRule]] = {}
    for style in tree.css("style"):
        for rule in css.parse_stylesheet(style.text() or ""):
            if rule.element_id:
                key = "#" + rule.element_id
            elif rule.classes:
                key = "." + min(rule.classes)
            else:
                key = rule.tag or ""
            index.setdefault(key, []).append(rule)
    return index


def selector(node: LexborNode, known: dict[int, str | None], depth: int = 3) -> str:
    """A short CSS path an officer can search for in "view source". `known`: the parts of
    the ancestors already named in this walk, by node (None: body or html, where the path
    stops); a menu's links share their parents."""
    parts = [_part(node.tag, node.attributes, own=True)]
    current = node.parent
    while current is not None and len(parts) < depth:
        key = current.mem_id
        if key not in known:
            tag = current.tag
            known[key] = None if tag in ("body", "html") else _part(tag, current.attributes)
        part = known[key]
        if part is None:
            break
        parts.append(part)
        current = current.parent
    return " > ".join(reversed(parts))


def _part(tag: str | None, attrs: Mapping[str, str | None], own: bool = False) -> str:
    part = tag or ""
    if attrs.get("id"):
        part += "#" + (attrs.get("id") or "")
    elif attrs.get("class"):
        part += "".join("." + c for c in (attrs.get("class") or "").split()[:2])
    if own and "style" in attrs:
        part += "[style]"
    return part


@dataclass(frozen=True)
class _Ctx:
    background: str = "#ffffff"
    chrome: bool = False
    tiny: bool = False
    ugc: bool = False
    exempt: bool = False


class _Walk:
    """One pass over the body (explicit stack: hostile pages nest deeply)."""

    def __init__(self, url: str, rules: Mapping[str, list[css.StyleRule]]) -> None:
        self.url, self.rules = url, rules
        self._matched: dict[tuple[str, frozenset[str], str | None], list[css.StyleRule]] = {}
        self._judged: dict[tuple[object, ...], tuple[str | None, bool, _Ctx]] = {}
        self._parts: dict[int, str | None] = {}  # selector parts of ancestors, by node
        self.text: list[str] = []
        self.ugc_text: list[str] = []
        self.links: list[Link] = []
        self.hidden: list[HiddenBlock] = []
        self.headings: list[Heading] = []

    def run(self, body: LexborNode) -> None:
        root = _Ctx(background=self._root_background())
        stack: list[tuple[LexborNode, _Ctx]] = list(zip(_children(body), repeat(root)))
        text, ugc_text = self.text, self.ugc_text
        while stack:
            node, ctx = stack.pop()
            tag = node.tag
            if tag == "-text":
                value = (node.text_content or "").strip()
                if value:
                    (ugc_text if ctx.ugc else text).append(value)
            elif tag not in _SKIP and node.is_element_node:
                inner = self._element(node, tag or "", ctx)
                if inner is not None:
                    stack.extend(zip(_children(node), repeat(inner)))

    def _root_background(self) -> str:
        for tag in ("html", "body"):
            for rule in self.rules.get(tag, []):
                if bg := css.background(rule.declarations):
                    return bg
        return "#ffffff"

    def _element(self, node: LexborNode, tag: str, ctx: _Ctx) -> _Ctx | None:
        attrs = node.attributes
        if not attrs and tag not in _SPECIAL_TAGS and tag not in self.rules:
            return ctx  # fast path: a bare <div>, <p>, <td> changes nothing
        # What the element's place is depends on these alone: a real page repeats a few
        # of them hundreds of times (each card, menu item and link of a theme), so each is
        # judged once per walk.
        key = (
            tag,
            attrs.get("class"),
            attrs.get("id"),
            attrs.get("style"),
            attrs.get("role"),
            "aria-expanded" in attrs,
            "hidden" in attrs,
            id(ctx),  # the root or a context `_judged` holds: alive all walk, ids unique
        )
        judged = self._judged.get(key)
        if judged is None:
            judged = self._judged[key] = self._judge(tag, attrs, ctx)
        reason, exempt, inner = judged
        if reason:
            links = tuple(self._link(a, ctx) for a in node.css("a[href]"))
            block = HiddenBlock(selector(node, self._parts), reason, node_text(node), links, exempt)
            self.hidden.append(block)
            return None
        if tag == "a" and attrs.get("href"):
            self.links.append(self._link(node, inner))
        elif tag in ("h1", "h2", "h3", "h4") and not inner.ugc:
            anchor = node.css_first("a[href]")
            href = normalise_url(anchor.attributes.get("href") or "", self.url) if anchor else ""
            if href:
                self.headings.append(Heading(node_text(node), href))
        return inner

    def _judge(
        self, tag: str, attrs: Mapping[str, str | None], ctx: _Ctx
    ) -> tuple[str | None, bool, _Ctx]:
        """(why the element is hidden or None, whether it is exempt hidden UI, the context
        of its children) from its tag, its attributes of `_element`'s key and its place."""
        classes = frozenset((attrs.get("class") or "").lower().split())
        element_id = (attrs.get("id") or "").lower() or None
        rules = self._rules_for(tag, classes, element_id) if self.rules else []
        style = attrs.get("style")
        inline = css.declarations(style) if style else {}
        decls = (
            {k: v for r in rules for k, v in r.declarations.items()} | inline if rules else inline
        )
        markers = " ".join((*classes, element_id or "", (attrs.get("role") or "").lower()))
        marked = bool(markers.strip())
        exempt = ctx.exempt or tag == "nav" or "aria-expanded" in attrs
        exempt = exempt or (marked and _EXEMPT_ANY.search(markers) is not None)
        reason = self._hidden(tag, attrs, rules, inline, decls, ctx.background)
        if reason:
            return reason, exempt, ctx
        ugc = ctx.ugc or bool(classes & _UGC_EXACT) or element_id in _UGC_EXACT
        ugc = ugc or ("comment-" in markers and any(c.startswith("comment-") for c in classes))
        chrome = ctx.chrome or tag in _CHROME_TAGS
        chrome = chrome or (marked and _CHROME_ANY.search(markers) is not None)
        tiny = tag == "marquee" or (css.is_tiny(decls) if "font-size" in decls else ctx.tiny)
        background = (css.background(decls) if decls else None) or ctx.background
        same = (background, chrome, tiny, ugc, exempt) == (
            ctx.background,
            ctx.chrome,
            ctx.tiny,
            ctx.ugc,
            ctx.exempt,
        )
        return None, exempt, ctx if same else _Ctx(background, chrome, tiny, ugc, exempt)

    def _rules_for(
        self, tag: str, classes: frozenset[str], element_id: str | None
    ) -> list[css.StyleRule]:
        """The style-block rules this element matches (remembered per tag, classes and id:
        a real page repeats a few class lists hundreds of times)."""
        key = (tag, classes, element_id)
        found = self._matched.get(key)
        if found is None:
            keys = [tag, *("." + c for c in classes)] + (["#" + element_id] if element_id else [])
            candidates = [r for k in keys for r in self.rules.get(k, [])]
            found = self._matched[key] = css.matching(candidates, tag, classes, element_id)
        return found

    @staticmethod
    def _hidden(
        tag: str,
        attrs: Mapping[str, str | None],
        rules: list[css.StyleRule],
        inline: Mapping[str, str],
        decls: Mapping[str, str],
        background: str,
    ) -> str | None:
        if tag == "noscript":
            return "inside noscript"
        if "hidden" in attrs:
            return "hidden attribute"
        if not decls:
            return None
        reason = _hiding(tuple(decls.items()), background)
        if reason is None:
            return None
        if _hiding(tuple(inline.items()), background) == reason:
            return f"inline style {reason}"
        for rule in rules:
            if _hiding(tuple(rule.declarations.items()), background) is not None:
                return f"style-block rule {rule.selector} {{{reason}}}"
        return f"style {reason}"

    def _link(self, node: LexborNode, ctx: _Ctx) -> Link:
        href = normalise_url(node.attributes.get("href") or "", self.url)
        ugc = ctx.ugc or "ugc" in (node.attributes.get("rel") or "").lower()
        return Link(href, node_text(node), selector(node, self._parts), ctx.chrome, ctx.tiny, ugc)


@lru_cache(maxsize=4096)
def _hiding(declarations: tuple[tuple[str, str], ...], background: str) -> str | None:
    """`css.hiding_reason`, remembered: a theme repeats the same inline styles on a page."""
    return css.hiding_reason(dict(declarations), background)


def _children(node: LexborNode) -> list[LexborNode]:
    return list(node.iter(include_text=True))[::-1]
