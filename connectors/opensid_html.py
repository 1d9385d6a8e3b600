"""Pure parsers for OpenSID HTML: platform/version/theme detection, the visitor
widget, menu links and the service pages of the server-rendered eras.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from aggregator.types import FetchResponse
from connectors.feed import looks_like_feed
from connectors.normalise import normalise_url
from connectors.opensid_parse import Officials
from connectors.opensid_version import exact_version, month_version, most_exact

# "OpenSID v24.10", "OpenSID 2410.0.0", "OpenSID v2508.0.0-premium", "Versi OpenSID 2410.0.0".
_OPENSID_TEXT = re.compile(r"\bOpenSID\b[\s:]*(v?\s*(?:pasca-)?\d[\w.-]*)?", re.IGNORECASE)
_RIGHTS = re.compile(r"<dc:rights>(.*?)</dc:rights>", re.IGNORECASE | re.DOTALL)
# Blade themes up to 2608 inline `var setting = {...}` with the release.
_JS_VERSION = re.compile(r"""current_version["']?\s*:\s*["']([^"']+)["']""")
# Blade themes (2025+) load assets as /theme_asset/{slug}?file=...&v={VERSION}.
_THEME_ASSET = re.compile(r"/theme_asset/([\w-]+)[^\"'\s>]*?[?&](?:amp;)?v=([\w.-]+)", re.I)
_THEME_PATH = re.compile(
    r"/(?:theme_asset/|vendor/themes/|desa/themes/|(?<!wp-content/)themes/)([\w-]+)", re.I
)
_THEME_PATH_VERSION = re.compile(
    r"/(?<!wp-content/)themes/[\w-]+/[^\"'\s>]*?[?&](?:amp;)?v=([\w.-]+)", re.IGNORECASE
)
# Paths, names and cookies only OpenSID uses; a WordPress /wp-content/themes/ is not.
_MARKERS = re.compile(
    r"sidcsrf|/(?:theme_asset/|vendor/themes/|desa/themes/"
    r"|(?<!wp-content/)themes/(?:esensi|natra|klasik|hadakewa)/|assets/files/logo/opensid_logo"
    r"|desa/upload/artikel/|desa/logo/)|opensid\.my\.id|github\.com/opensid/opensid",
    re.IGNORECASE,
)

_COUNTER_DIGIT = re.compile(r"counter/(?:animasi/)?(\d)\.gif", re.IGNORECASE)
_NUMBER = re.compile(r"^\d{1,3}(?:[.,\s]\d{3})*$|^\d+$")
_WIDGET_ROWS = {
    "hari ini": "visitors_today",
    "kemarin": "visitors_yesterday",
    "jumlah pengunjung": "visitors_total",
    "total pengunjung": "visitors_total",
    "total": "visitors_total",
    "jumlah": "visitors_total",
}
_PENGADUAN_STATUS = ("menunggu diproses", "sedang diproses", "selesai diproses")
# Menu links that show a service is published (data pages 404 unless linked).
_SERVICE_LINKS = {
    "statistik": re.compile(r"/(?:data-statistik|first/statistik|statistik)/[\w-]+", re.I),
    "layanan_mandiri": re.compile(r"/layanan-mandiri(?:/|$)", re.I),
    "lapak": re.compile(r"/lapak(?:/|$)", re.I),
    "pengaduan": re.compile(r"/pengaduan(?:/|$)", re.I),
    "pembangunan": re.compile(r"/pembangunan(?:/|$)", re.I),
    "pemerintah": re.compile(r"/pemerintah(?:/|$)", re.I),
}
_PEMBANGUNAN_DETAIL = re.compile(r"/pembangunan/(?!index(?:/|$))[\w-]+/?$", re.I)


# -- detection ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    platform: str
    version: str | None  # as the site states it: "2410.0.0", or "24.10" from the feed
    theme: str | None  # "esensi"


def normalise_version(raw: str | None) -> str | None:
    """The release month of any OpenSID version string: "2410.0.0-premium" → "24.10", "21.1"
    → "21.01" (see connectors.opensid_version for the exact forms)."""
    return month_version(raw)


def _text_version(text: str) -> tuple[bool, str | None]:
    """(OpenSID named, version of its last "OpenSID x" mention) in plain text."""
    named, version = False, None
    for m in _OPENSID_TEXT.finditer(text):
        named = True
        version = exact_version(m.group(1)) or version
    return named, version


def detect_feed(content: bytes) -> Detection | None:
    """OpenSID and its YY.MM from a feed's `dc:rights` ("… OpenDesa - OpenSID 24.10")."""
    m = _RIGHTS.search(content[:8192].decode("utf-8", errors="replace"))
    named, version = _text_version(m.group(1)) if m else (False, None)
    return Detection("opensid", version, None) if named else None


def _footer_text(tree: LexborHTMLParser) -> str:
    # esensi: <footer>; natra: div.footer_bottom.
    nodes = tree.css('footer, [class*="footer"], [id*="footer"]')
    return " ".join(_text(n) for n in nodes)


def _theme(tree: LexborHTMLParser, page: str) -> str | None:
    meta = tree.css_first('meta[name="theme"]')
    if meta is not None and (name := (meta.attributes.get("content") or "").strip()):
        return name.lower()
    m = _THEME_PATH.search(page)
    return m.group(1).lower() if m else None


@lru_cache(maxsize=2)  # pins at most two pages (a body may be up to max_body_bytes)
def detect_page(page: bytes | str, cookies: str = "") -> Detection | None:
    """OpenSID, its release and theme from a page (home, siteman, layanan-mandiri), or None.

    The release comes from, best first: the footer "OpenSID v…", the inline `current_version`,
    a `/theme_asset/…&v=`, any "OpenSID v…" in the text, a theme asset `?v=`.

    Remembered for the last two pages: a poll's home page is detected by `platform: auto`
    and at once again by this connector (no await between them, so no other poll's page in
    between; the same bytes object, so a hit compares nothing), ~1.4 ms each on a real home
    page.
    """
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    tree = LexborHTMLParser(text)
    in_footer, footer_version = _text_version(_footer_text(tree))
    marked = in_footer or bool(_MARKERS.search(text)) or "sidcsrf" in cookies.lower()
    js = _JS_VERSION.search(text)
    asset = _THEME_ASSET.search(text)
    body = tree.body
    named, text_version = _text_version(_text(body)) if body is not None else (False, None)
    path_version = _THEME_PATH_VERSION.search(text)
    if not marked and not (js or asset):
        return None
    candidates = (
        footer_version,
        js.group(1) if js else None,
        asset.group(2) if asset else None,
        text_version if named else None,
        path_version.group(1) if path_version else None,
    )
    version = most_exact(candidates)
    return Detection("opensid", version, _theme(tree, text))


def detect(resp: FetchResponse) -> Detection | None:
    """Is this response (a home page or a feed) OpenSID, and which release and theme?"""
    if looks_like_feed(resp.content):
        return detect_feed(resp.content)
    return detect_page(resp.content, resp.headers.get("set-cookie", ""))


# -- widget, menu links and service pages ------------------------------------------------


Page = bytes | str | LexborHTMLParser  # a parser below takes a page already parsed too


def page_tree(page: Page) -> LexborHTMLParser:
    """The parsed page: one parse (~0.5 ms for a real home page) shared by the parsers the
    connector runs on it in turn (the visitor widget, the menu links)."""
    if isinstance(page, LexborHTMLParser):
        return page
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    return LexborHTMLParser(text)


def _text(node: LexborNode) -> str:
    return " ".join((node.text(separator=" ") or "").split())


def _number(text: str) -> int | None:
    # natra 2410 writes "1.234", natra 2601 "1,234".
    text = text.strip()
    return int(re.sub(r"[.,\s]", "", text)) if _NUMBER.match(text) else None


def _widget_value(cell: LexborNode) -> int | None:
    # esensi 2410 draws each digit as counter/{d}.gif, the last one counter/animasi/{d}.gif.
    digits = [
        m.group(1)
        for img in cell.css("img[src]")
        if (m := _COUNTER_DIGIT.search(img.attributes.get("src") or ""))
    ]
    if digits:
        return int("".join(digits))
    return _number(_text(cell))


def _widget_rows(table: LexborNode) -> dict[str, float]:
    found: dict[str, float] = {}
    for row in table.css("tr"):
        cells = row.css("td, th")
        if len(cells) < 2:
            continue
        label = _text(cells[0]).rstrip(":").strip().lower()
        name = _WIDGET_ROWS.get(label)
        if name is None or name in found:
            continue
        # natra: td.description / td.dot / td.case; esensi: label td + value td.
        value_cell = row.css_first("td.case") or cells[-1]
        value = _widget_value(value_cell)
        if value is not None:
            found[name] = float(value)
    return found


def parse_visitor_widget(page: Page) -> dict[str, float]:
    """Counts of the "Statistik Pengunjung" widget on a page, those shown only.

    Tries `table.counter` (esensi and natra), then any table with a "Hari ini" row (other
    themes). The viewer's own IP/OS/browser rows of natra are ignored.
    """
    tree = page_tree(page)
    tables = tree.css("table.counter") + [
        t
        for t in tree.css("table")
        if "counter" not in (t.attributes.get("class") or "").split()
        and "hari ini" in _text(t).lower()
    ]
    for table in tables:
        if found := _widget_rows(table):
            return found
    return {}


def _site_links(page: Page, base: str) -> Iterator[tuple[str, str]]:
    """(absolute url, path) of each link of the page to the site's own host, in page order."""
    netloc = urlsplit(base).netloc
    for node in page_tree(page).css("a[href]"):
        url = normalise_url(node.attributes.get("href") or "", base + "/")
        if url:
            parts = urlsplit(url)
            if parts.netloc == netloc:
                yield url, parts.path


def service_links(page: Page, base: str) -> dict[str, str]:
    """Which service pages the site links (its menu), kind → first absolute url."""
    found: dict[str, str] = {}
    for url, path in _site_links(page, base):
        for kind, pattern in _SERVICE_LINKS.items():
            if kind not in found and pattern.search(path):
                found[kind] = url
    return found


def parse_statistik_total(page: bytes | str) -> int | None:
    """Residents counted by a statistik page: the first number of its "TOTAL" (or, failing
    that, "JUMLAH") row; 0 on a fresh install; None when the page has no such table."""
    tree = page_tree(page)
    for label in ("TOTAL", "JUMLAH"):
        for row in tree.css("tr"):
            cells = [_text(c) for c in row.css("td, th")]
            if label not in (c.upper() for c in cells[:3]):
                continue
            after = cells[[c.upper() for c in cells].index(label) + 1 :]
            for cell in after:
                if _NUMBER.match(cell):
                    return int(re.sub(r"[.,\s]", "", cell))
    return None


def parse_lapak_html(page: bytes | str) -> int:
    """Products on a `/lapak` page (first page only, so a lower bound)."""
    tree = page_tree(page)
    cards = tree.css("div.this-product")
    if cards:
        return len(cards)
    # Other themes: one WhatsApp "Beli Sekarang" link per product.
    links = {n.attributes.get("href") for n in tree.css('a[href*="api.whatsapp.com/send"]')}
    return len(links)


def parse_pembangunan_html(page: bytes | str, base: str) -> int:
    """Projects on a `/pembangunan` page: distinct `pembangunan/{slug}` links."""
    return len({url for url, path in _site_links(page, base) if _PEMBANGUNAN_DETAIL.search(path)})


def _is_leaf(node: LexborNode) -> bool:
    return next(node.iter(include_text=False), None) is None


def parse_pengaduan_html(page: bytes | str) -> int:
    """Complaints on a `/pengaduan` page: one status label each (the filter's options aside)."""
    count = 0
    for node in page_tree(page).css("span, label, small, td, p, div"):
        if _is_leaf(node) and _text(node).lower() in _PENGADUAN_STATUS:
            count += 1
    return count


def _outside_sidebar(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == "aside":
            return False
        parent = parent.parent
    return True


def _official_card(img: LexborNode, photos: set[int]) -> LexborNode:
    """The card around an official's photo: its highest ancestor holding no other photo."""
    card, node = img, img.parent
    for _ in range(4):
        if node is None or node.tag in ("body", "html", "main"):
            break
        if sum(1 for i in node.css("img") if i.mem_id in photos) > 1:
            break
        card, node = node, node.parent
    return card


def _attendance(scope: LexborNode) -> tuple[int, int]:
    """(badges saying "Hadir", attendance badges of any status) among the leaves of scope."""
    present = tracked = 0
    for node in scope.css("span, label, small, div, b"):
        if not _is_leaf(node) or not _outside_sidebar(node):
            continue
        text = _text(node).lower()
        classes = (node.attributes.get("class") or "").lower()
        if text == "hadir":
            present += 1
            tracked += 1
        elif text and any(k in classes for k in ("btn", "label", "badge")):
            tracked += 1  # "Belum Rekam Kehadiran", "Izin", "Lupa Melapor Keluar", ...
    return present, tracked


def parse_pemerintah_html(page: bytes | str) -> Officials:
    """`/pemerintah`: one card per `img alt="Foto …"`; "Hadir" badges counted, names never read.

    esensi shows "Hadir", another status or "Belum Rekam Kehadiran"; natra shows only "Hadir".
    Sidebars (`aside`) are skipped: the "Aparatur Desa" widget repeats officials.
    """
    tree = page_tree(page)
    imgs = [i for i in tree.css('img[alt^="Foto"]') if _outside_sidebar(i)]
    photos = {i.mem_id for i in imgs}
    present = tracked = 0
    for img in imgs:
        here, seen = _attendance(_official_card(img, photos))
        present += min(here, 1)
        tracked += min(seen, 1)
    if not imgs and tree.body is not None:  # unknown theme: count the badges themselves
        present, tracked = _attendance(tree.body)
        return Officials(tracked, present if tracked else None)
    # natra prints nothing for an official who has not checked in, so without any badge
    # "nobody present" and "attendance not used" look the same: report None.
    return Officials(len(imgs), present if tracked else None)
