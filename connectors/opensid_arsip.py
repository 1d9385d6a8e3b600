"""OpenSID's server-rendered archive, `/index.php/arsip/{N}` (2410 and the PHP releases
before it): every published article, news and static pages alike, newest first, 20 a page
(`First_artikel_m::paging_arsip`), each row a title linking the article's dated url and its
day. Drafts and future-dated articles are left out. Recorded on a real 2410 with 74 published
articles in both bundled themes (tests/fixtures/opensid_real/2410/catalogue):

- natra: `.single_page_area table` rows: No., "04 Desember 2026", the linked title, author, hits;
- esensi: `ol.divide-y > li`: the linked title, "Diterbitkan pada 04 Desember 2026", author;
- both pagers link `first/arsip/{N}`, which answers 404 on 2410: page N is `arsip/{N}`;
- a page past the last answers 500 (`count(false)` in both themes' partial).

Only the day is shown, as the sitemap's lastmod; there is no category, so a static page is
told from news by the site's menu, as a confirmed page is (connectors.opensid_confirm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from selectolax.lexbor import LexborHTMLParser

from aggregator.types import ParsedItem
from connectors.normalise import content_hash, normalise_url, parse_indonesian_date
from connectors.opensid_parse import article_day, canonical_article_url

PER_PAGE = 20  # First_artikel_m::paging_arsip
_ROWS = ".single_page_area table tr, ol.divide-y > li"
_DAY = re.compile(
    r"\b\d{1,2}\s+(?:januari|februari|maret|april|mei|juni|juli|agustus|september|oktober"
    r"|november|desember)\s+\d{4}\b",
    re.IGNORECASE,
)
_PAGE_LINK = re.compile(r"/arsip/(\d{1,5})/?$")


@dataclass(frozen=True)
class Listing:
    """One archive page: its rows as items (news and static pages alike, in page order)
    and the last page its pager links (None without a pager: a single page)."""

    items: tuple[ParsedItem, ...]
    last_page: int | None


def page_path(number: int) -> str:
    """Archive page `number`, after `index.php/` (the pagers' `first/arsip/N` is a 404 on
    2410)."""
    return "arsip" if number <= 1 else f"arsip/{number}"


def parse_listing(page: bytes, base: str) -> Listing:
    """The rows of an archive page in a bundled theme's markup; no items when the page is
    not one (another theme, an error page)."""
    tree = LexborHTMLParser(page.decode("utf-8", errors="replace"))
    items: dict[str, ParsedItem] = {}
    for row in tree.css(_ROWS):
        links = []
        for a in row.css("a[href]"):
            url = canonical_article_url(normalise_url(a.attributes.get("href") or "", base))
            if article_day(url) is not None:
                links.append((a, url))
        day = _DAY.search(" ".join((row.text(separator=" ") or "").split()))
        if len(links) != 1 or day is None or links[0][1] in items:
            continue  # a header row, a sidebar list, a row without its day
        anchor, url = links[0]
        title = " ".join(unescape(anchor.text() or "").split()) or "(tanpa judul)"
        items[url] = ParsedItem(
            title=title,
            url=url,
            guid=url,
            published_at=parse_indonesian_date(day.group(0)),
            content_hash=content_hash(title, url),
            source="arsip",
        )
    last = 0
    for a in tree.css("ul.pagination a[href]"):
        m = _PAGE_LINK.search(a.attributes.get("href") or "")
        if m is not None:
            last = max(last, int(m.group(1)))
    return Listing(tuple(items.values()), last or None)
