"""Plain-HTML connector for village sites without a feed: articles scraped from the home page
with the CSS selectors of the village's `html_rules`, or with defaults for common layouts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from aggregator.errors import ParseError
from aggregator.types import FetchResponse, Harvest, HttpGetter, ParsedItem, VillageForPoll
from connectors.base import follow_pages, parse_off_loop, require_ok
from connectors.feed import (
    ID_ZONES,
    SUMMARY_CHARS,
    UNTITLED,
    Detection,
    decode_lenient,
    fixed_offset,
)
from connectors.normalise import (
    MONTHS_ID,
    WIB,
    content_hash,
    normalise_url,
    parse_indonesian_date,
    squash_spaces,
    truncate,
)

__all__ = [
    "Detection",
    "HtmlConnector",
    "detect",
    "parse_date",
    "parse_html_list",
    "rule_problems",
]

# Tried in order when a village has no rules; the selector finding the most articles wins.
DEFAULT_ITEMS = (
    "article",
    ".post",
    ".artikel",
    ".berita",
    ".entry",
    ".news-item",
    ".item-berita",
    ".blog-post",
)
DEFAULT_TITLE = "h1, h2, h3, h4, h5, .title, .judul, .entry-title, .post-title"
# In order: a machine-readable <time> beats the text of a meta line around it.
DEFAULT_DATES = (
    "time[datetime]",
    "time, .date, .tanggal, .tgl, .post-date, .entry-date, .published, .posted-on",
    ".meta, .post-meta, .entry-meta, small",
)
DEFAULT_SUMMARY = ".excerpt, .summary, .entry-summary, .ringkasan, .deskripsi, .entry-content, p"
DEFAULT_CATEGORY = '.category, .kategori, .cat-links, .post-category, a[rel~="category"]'
# Where a site's chrome lives: links there are menus, widgets or injected spam, not articles.
CHROME = ("nav", "header", "footer", "aside")
CHROME_MARKS = frozenset({"nav", "navbar", "menu", "sidebar", "widget", "footer"})  # pre-HTML5
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_BACKGROUND = re.compile(r"url\(\s*['\"]?([^'\")]+)")
_HTML_START = re.compile(rb"<!doctype\s+html|<html|<head|<body", re.IGNORECASE)
_DIRECTIVES = {
    "d": r"(?P<d>\d{1,2})",
    "m": r"(?P<m>\d{1,2})",
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "B": r"(?P<B>[^\W\d_]+)\.?",
    "b": r"(?P<B>[^\W\d_]+)\.?",
    "A": r"[^\W\d_]+(?:'[^\W\d_]+)?",  # Jum'at
    "a": r"[^\W\d_]+(?:'[^\W\d_]+)?",
    "H": r"(?P<H>\d{1,2})",
    "I": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d{2})",
    "S": r"(?P<S>\d{2})",
    "p": r"(?P<p>[AaPp]\.?[Mm]\.?)",
    "Z": r"(?P<Z>WITA|WIB|WIT|UTC|GMT)",
    "z": r"(?P<z>[+-]\d{2}:?\d{2})",
    "%": "%",
}
_ZONES = {**{k.upper(): v for k, v in ID_ZONES.items()}, "UTC": UTC, "GMT": UTC}


def detect(resp: FetchResponse) -> Detection | None:
    """The last resort of detection: any HTML page can be scraped with rules."""
    if resp.content_type in ("text/html", "application/xhtml+xml"):
        return Detection("html", None, None)
    return Detection("html", None, None) if _HTML_START.search(resp.content[:2048]) else None


def decode_page(page: bytes) -> str:
    """Text of a page: UTF-8 (stray Windows-1252 bytes read as such) unless its
    `<meta charset>` names another encoding that the bytes are not valid UTF-8 for."""
    try:
        return page.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _CHARSET.search(page[:4096])
    label = m.group(1).decode("ascii").lower() if m else "utf-8"
    if label not in ("utf-8", "utf8", "iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        try:
            return page.decode(label, errors="replace")
        except LookupError:
            pass
    return decode_lenient(page)


def parse_date(text: str, fmt: str) -> datetime | None:
    """A date by a strptime-like format whose %B/%b and %A/%a take Indonesian (or English)
    month and day names: "%A, %d %B %Y" reads "Kamis, 23 Januari 2025". Searched anywhere in
    the text, spaces are flexible; %Z knows WIB/WITA/WIT. Naive dates are WIB."""
    pattern, i = [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt) and fmt[i + 1] in _DIRECTIVES:
            pattern.append(_DIRECTIVES[fmt[i + 1]])
            i += 2
            continue
        pattern.append(r"\s+" if char.isspace() else re.escape(char))
        i += 1
    try:
        m = re.search("".join(pattern), text, re.IGNORECASE)
    except re.error:  # e.g. %B and %b in one format
        return None
    if m is None:
        return None
    got = m.groupdict()
    month = int(got["m"]) if got.get("m") else MONTHS_ID.get((got.get("B") or "").lower())
    year = int(got["Y"]) if got.get("Y") else (2000 + int(got["y"]) if got.get("y") else None)
    if not (month and year and got.get("d")):
        return None
    hour = int(got.get("H") or 0)
    if (got.get("p") or "").lower().startswith("p") and hour < 12:
        hour += 12
    elif (got.get("p") or "").lower().startswith("a") and hour == 12:
        hour = 0
    tz = _ZONES.get((got.get("Z") or "").upper(), WIB)
    if offset := got.get("z"):
        tz = fixed_offset(offset)
    try:
        return datetime(
            year, month, int(got["d"]), hour, int(got.get("M") or 0), int(got.get("S") or 0), 0, tz
        )
    except ValueError:
        return None


def _text(node: LexborNode | None) -> str:
    return squash_spaces(node.text(separator=" ", strip=True)) if node else ""


def _in_chrome(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        marks = f"{parent.attributes.get('id') or ''} {parent.attributes.get('class') or ''}"
        if parent.tag in CHROME or not CHROME_MARKS.isdisjoint(marks.lower().split()):
            return True
        parent = parent.parent
    return False


def _date_of(node: LexborNode, rules: Mapping[str, str]) -> datetime | None:
    if "date" in rules:
        match = node.css_first(rules["date"])
    else:
        match = next(filter(None, (node.css_first(s) for s in DEFAULT_DATES)), None)
    fmt = rules.get("date_format")
    candidates = [_text(match)] if match is not None else []
    if match is not None and not fmt and (machine := match.attributes.get("datetime")):
        candidates.insert(0, machine)
    if "date" not in rules:
        candidates.append(_text(node))  # a date printed anywhere in the article's box
    for text in candidates:
        if fmt and (found := parse_date(text, fmt)):
            return found
        try:
            found = datetime.fromisoformat(text.strip())
            return found if found.tzinfo else found.replace(tzinfo=WIB)
        except ValueError:
            pass
        if found := parse_indonesian_date(text):
            return found
    return None


def _image_of(node: LexborNode, rules: Mapping[str, str], base: str) -> str | None:
    match = node.css_first(rules["image"]) if "image" in rules else None
    if match is not None and match.tag != "img":
        match = match.css_first("img") or match
    match = match or node.css_first("img")
    if match is None:
        return None
    attrs = match.attributes
    # Lazy-loading themes keep the real source in data-src and a placeholder in src.
    src = attrs.get("data-src") or attrs.get("data-lazy-src") or attrs.get("src") or ""
    if not src and (m := _BACKGROUND.search(attrs.get("style") or "")):
        src = m.group(1)
    return normalise_url(src, base) or None


def _item(node: LexborNode, rules: Mapping[str, str], base: str) -> ParsedItem | None:
    # Lexbor's css_first tries the node itself first, so `item: a.card` works with `link: a`.
    link = node.css_first(rules["link"]) if "link" in rules else None
    title_node = node.css_first(rules["title"]) if "title" in rules else None
    if title_node is None:
        title_node = node.css_first(DEFAULT_TITLE)
    if link is None and title_node is not None:
        link = title_node.css_first("a[href]")
    if link is not None and link.tag != "a":
        link = link.css_first("a[href]") or link
    link = link or node.css_first("a[href]")
    url = normalise_url(link.attributes.get("href") or "", base) if link else ""
    if not url:
        return None
    title = (
        _text(title_node) or _text(link) or ((link.attributes.get("title") or "") if link else "")
    )
    summary_node = node.css_first(rules["summary"]) if "summary" in rules else None
    summary = _text(summary_node)
    if summary_node is None:
        paragraphs = (_text(p) for p in node.css(DEFAULT_SUMMARY))
        summary = next((t for t in paragraphs if t and t != title), "")
    category_rule = rules.get("category", DEFAULT_CATEGORY)
    return ParsedItem(
        title=title or UNTITLED,
        url=url,
        guid=None,  # pages carry no ids: the store falls back to the url
        published_at=_date_of(node, rules),
        summary=truncate(summary, SUMMARY_CHARS),
        category=_text(node.css_first(category_rule)) or None,
        thumbnail=_image_of(node, rules, base),
        content_hash=content_hash(title, summary),
        source="html",
    )


def _collect(nodes: list[LexborNode], rules: Mapping[str, str], base: str) -> list[ParsedItem]:
    items: dict[str, ParsedItem] = {}
    for node in nodes:
        item = _item(node, rules, base)
        if item is not None and item.url != base and item.url not in items:
            items[item.url] = item  # a slider and a list often show the same article twice
    return list(items.values())


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _same_site(items: list[ParsedItem], base: str) -> list[ParsedItem]:
    return [i for i in items if _site(i.url) == _site(base)]


def rule_problems(rules: Mapping[str, str]) -> list[str]:
    """Selectors among `rules` that are not valid CSS (for a config check, too)."""
    probe = LexborHTMLParser("<p></p>")
    problems = []
    for key, selector in rules.items():
        if key == "date_format":
            continue
        try:
            probe.css_first(selector)
        except SelectolaxError:
            problems.append(f"html_rules {key}: cannot parse CSS selector {selector!r}")
    return problems


def parse_html_list(page: bytes, base_url: str, rules: Mapping[str, str]) -> list[ParsedItem]:
    """Articles listed on a page. With an `item` rule each match is one article and the other
    rules pick its parts; without one, common layouts are tried (same-site links, outside the
    page's menus, header, footer and sidebar)."""
    if problems := rule_problems(rules):
        raise ParseError("; ".join(problems))
    tree = LexborHTMLParser(decode_page(page))
    tree.strip_tags(["script", "style", "template"])
    base_node = tree.css_first("base[href]")
    base = normalise_url(base_node.attributes.get("href") or "", base_url) if base_node else ""
    base = base or base_url
    if rules.get("item"):
        return _collect(tree.css(rules["item"]), rules, base)
    best: list[ParsedItem] = []
    for selector in DEFAULT_ITEMS:
        nodes = [n for n in tree.css(selector) if not _in_chrome(n)]
        found = _same_site(_collect(nodes, rules, base), base)
        if len(found) > len(best):
            best = found
    if best:
        return best
    # Last resort: every linked heading is an article, its parent element the article's box.
    boxes = [h.parent for h in tree.css("h2, h3, h4") if h.css_first("a[href]") is not None]
    nodes = [b for b in boxes if b is not None and not _in_chrome(b)]
    return _same_site(_collect(nodes, rules, base), base)


class HtmlConnector:
    """Scrapes the articles listed on a village's home page (config `html_rules`)."""

    name = "html"

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest:
        home = require_ok(await http.get(village.url, conditional=False))
        rules = dict(village.rules or {})
        # A big page is parsed off the event loop (see parse_off_loop).
        items = await parse_off_loop(home.content, parse_html_list, home.content, home.url, rules)
        notes: tuple[str, ...] = ()
        if not items:
            used = f"item={rules['item']!r}" if rules.get("item") else "the defaults"
            notes = (f"no articles found with the rules ({used})",)
        elif village.feed_url is None:  # first poll: older articles from the list's pages
            items = await self._backfill(http, home, rules, items)
        # feed_url marks the list page as read once, so later polls read only the first page.
        return Harvest(platform="html", feed_url=village.url, items=tuple(items), notes=notes)

    @staticmethod
    async def _backfill(
        http: HttpGetter, page: FetchResponse, rules: dict[str, str], items: list[ParsedItem]
    ) -> list[ParsedItem]:
        def next_url(last: FetchResponse | None, _read: int) -> str | None:
            last = last or page
            return next_page_link(last.content, last.url, rules.get("next", ""))

        async def read(resp: FetchResponse) -> list[ParsedItem] | None:
            if resp.status_code != 200:
                return None
            return await parse_off_loop(
                resp.content, parse_html_list, resp.content, resp.url, rules
            )

        return await follow_pages(http, items, next_url, read, pages=BACKFILL_PAGES)


BACKFILL_PAGES = 20
_NEXT_WORDS = ("berikutnya", "selanjutnya", "lainnya", "lebih lama", "next", "older", "»", "›")


def next_page_link(page: bytes, base_url: str, selector: str = "") -> str | None:
    """The link to the next (older) page of an article list: the `next` rule, else
    `rel=next`, else a link whose text reads like "Berikutnya" / "Berita Lainnya"."""
    tree = LexborHTMLParser(decode_page(page))
    node = tree.css_first(selector) if selector else None
    node = node or tree.css_first("a[rel~=next][href], link[rel~=next][href]")
    if node is None:
        for a in tree.css("a[href]"):
            if any(w in (a.text() or "").strip().lower() for w in _NEXT_WORDS):
                node = a
                break
    href = node.attributes.get("href") if node is not None else None
    url = normalise_url(href or "", base_url)
    return url if url and url != normalise_url(base_url) else None
