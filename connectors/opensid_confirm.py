"""Is a url that OpenSID's sitemap lists a published news article?

The sitemap lists every `artikel` row: disabled drafts and static pages ("Sejarah Desa")
too, with the same dated url form as news. The feed leaves drafts, static pages and
uncategorised articles out, and the archive page lists static pages. So an item learnt only
from the sitemap is confirmed by its own page, read as a real 2410 and 2312 show it
(tests/fixtures/opensid_real, docs/design.md "Only published news counts"):

- a draft answers HTTP 200 with a soft-404 body: natra `id="artikel-blank"` "Halaman ini
  belum tersedia…", esensi "UPS! HALAMAN TIDAK DITEMUKAN", older "Maaf Halaman ini belum
  tersedia";
- a published article names its category: esensi's breadcrumb and natra's meta line link
  `first/kategori/…` or `artikel/kategori/…`;
- a page without a category is a static page when the site's menu links it (by its dated
  url, by id `artikel/{id}` with the id from its comment form `add_comment/{id}`, or by its
  title), else an uncategorised article, which is news. Real 2410 pages show nothing else
  that tells the two apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from selectolax.lexbor import LexborHTMLParser

from aggregator.types import bounded_body
from connectors.normalise import normalise_url
from connectors.opensid_parse import canonical_article_url

# Looked for in the lower-cased page: a case-insensitive pattern cannot skip ahead to a
# first letter and took 1.9 ms on a real 60 kB article page, most of confirming it.
_SOFT_404 = ('id="artikel-blank"', "halaman ini belum tersedia", "halaman tidak ditemukan")
_CATEGORY_HREF = re.compile(r"/(?:first|artikel)/kategori/[^/?#\s]+/?$", re.IGNORECASE)
# Where a theme puts the article's own category (menus and sidebars list every category).
_CATEGORY_PLACES = (
    "nav.breadcrumb a, .breadcrumb a, .post_commentbox a, .meta_date a, "
    "article .meta a, article .kategori a, .single_page_area .meta a"
)
_MENU_ID = re.compile(r"/artikel/(\d+)/?$")
_ARTICLE_ID = re.compile(r"/add_comment/(\d+)")
NEWS, DRAFT, STATIC = "news", "draft", "static"


@dataclass(frozen=True)
class Menu:
    """What the site's menus (`nav` elements: every bundled theme's top and side menu) link:
    static pages, by id (`artikel/{id}`), by dated url or by title."""

    ids: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()


def menu_pages(home: bytes, base: str) -> Menu:
    ids: set[str] = set()
    urls: set[str] = set()
    titles: set[str] = set()
    tree = LexborHTMLParser(home.decode("utf-8", errors="replace"))
    for a in tree.css("nav a[href]"):
        href = a.attributes.get("href") or ""
        m = _MENU_ID.search(href)
        url = canonical_article_url(normalise_url(href, base))
        if m is None and "/artikel/" not in url:
            continue
        if m is not None:
            ids.add(m.group(1))
        else:
            urls.add(url)
        if text := " ".join((a.text() or "").split()).lower():
            titles.add(text)
    return Menu(frozenset(ids), frozenset(urls), frozenset(titles))


def page_title(tree: LexborHTMLParser) -> str:
    meta = tree.css_first('meta[property="og:title"]')
    return " ".join(unescape(meta.attributes.get("content") or "").split()) if meta else ""


def article_body(tree: LexborHTMLParser) -> str:
    """The article's own body as HTML (natra `.single_page_content`, esensi's `div.content`
    in `main`), for the post-body integrity check; "" when the theme is not recognised."""
    node = tree.css_first(".single_page_content") or tree.css_first("main div.content")
    return bounded_body(node.html or "") if node is not None else ""


def verdict(page: bytes, url: str, menu: Menu) -> tuple[str, str, str]:
    """(NEWS | DRAFT | STATIC, the page's own title or "", its body or "") of the article
    page at `url`."""
    text = page.decode("utf-8", errors="replace")
    low = text.lower()
    if any(mark in low for mark in _SOFT_404):
        return DRAFT, "", ""
    tree = LexborHTMLParser(text)
    title = page_title(tree)
    for a in tree.css(_CATEGORY_PLACES):
        if _CATEGORY_HREF.search(a.attributes.get("href") or ""):
            return NEWS, title, article_body(tree)
    m = _ARTICLE_ID.search(text)
    if in_menu(menu, url, title, m.group(1) if m is not None else None):
        return STATIC, title, ""
    return NEWS, title, article_body(tree)


def in_menu(menu: Menu, url: str, title: str, article_id: str | None = None) -> bool:
    """Whether the site's menu links the article (by url, id or title): a static page, when
    nothing else (a category) says it is news."""
    if canonical_article_url(url) in menu.urls:
        return True
    if article_id is not None and article_id in menu.ids:
        return True
    return bool(title) and title.lower() in menu.titles
