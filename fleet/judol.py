"""Judi-online compromises served on top of any kind's pages (docs/design.md): hidden link
blocks (P1, P2), head replacement (P12), crawler and search-visitor cloaking (P8, P9), off-site
redirects (P11), and a doorway sitemap whose urls answer with landing pages (P6, P7). The spam
posts of P4 are articles (planted.py). Every domain is under the reserved `.example`.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Mapping
from dataclasses import replace
from html import escape
from urllib.parse import parse_qs

from .model import SimVillage
from .render import HTML, XML, Page, SiteInfo, SiteView, simple_page

# The pattern of docs/design.md each behaviour reproduces (hidden links: P1 or P2 per village),
# and the decisive rule a correct detector raises for it.
PATTERNS = {
    "judol_hidden_links": "P1",
    "judol_injected_posts": "P4",
    "judol_head": "P12",
    "judol_cloak_ua": "P8",
    "judol_cloak_referer": "P9",
    "judol_redirect": "P11",
    "judol_doorway_sitemap": "P7",
    "judol_post_body": "P1",  # in an older post's body only (planted.POST_BODY)
}
EXPECTED_RULE = {
    "P1": "D1",
    "P2": "D1",
    "P4": "D6",
    "P7": "D7",
    "P8": "D3",
    "P9": "D4",
    "P11": "D5",
    "P12": "D2",
}

HIDDEN_LINKS = (
    ("https://brandx88.example/", "slot gacor"),
    ("https://brandy-toto.example/", "situs toto 4d"),
    ("https://rtp-live.example/", "rtp live hari ini"),
    ("https://slot-pulsa.example/", "slot deposit pulsa tanpa potongan"),
    ("https://brandz303.example/", "BRANDZ303.example"),  # anchor text that is a domain
    ("https://toto-macau.example/", "toto macau"),
    ("https://gacor-maxwin.example/", "link alternatif slot maxwin"),
)
# P1: inline hiding styles seen in detector rule sets (P1,).
HIDING_STYLES = (
    "display:none",
    "position:absolute;left:-9999px",
    "visibility:hidden",
    "height:0;overflow:hidden",
    "font-size:0",
    "opacity:0",
)
# P2: the hiding rule lives in a <style> block, so a `style=` grep misses it.
HIDING_RULE = "position:fixed;bottom:-800px;left:0;height:2px;overflow:hidden"
HEAD_DESCRIPTION = "Situs toto 4d terpercaya, bocoran rtp live hari ini, bonus new member."
HEAD_OG_TITLE = "BRANDX88 Link Alternatif"
CRAWLER_TITLE = "SLOT GACOR ⚡ Link Situs Slot Online Terpercaya Hari Ini"
REFERER_TARGET = "https://promo-brandx88.example/redir"
REDIRECT_TARGET = "https://brandx88-slotgacor.example/"
DOORWAY_PARAM = "buls"
DOORWAYS = 24
_CRAWLER = re.compile(
    r"googlebot|google-inspectiontool|google-site-verification|adsbot-google", re.I
)
_SEARCH = re.compile(r"https?://(?:www\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?(?:[/:?]|$)", re.I)
_TITLE = re.compile(r"<title[^>]*>.*?</title>", re.I | re.S)
_SEO_META = re.compile(
    r"""<meta\s+(?:name=["']description["']|property=["']og:(?:title|description)["'])[^>]*>\n?""",
    re.I,
)
_HEAD_OPEN = re.compile(r"<head[^>]*>", re.I)
_SLUGS = ("slot-gacor", "situs-toto", "link-slot", "rtp-live", "togel-hari-ini", "slot-maxwin")
_BRANDS = ("brandx", "gacor", "sultan", "zeus", "hoki", "rajaslot", "bosku", "mega")
_SUFFIXES = ("88", "77", "303", "4d", "168", "777")


def _pick(code: str, n: int) -> int:
    return zlib.crc32(code.encode()) % n


def pattern_of(behaviour: str, code: str) -> str | None:
    """The docs/design.md pattern a village shows ("P1"...), None for a clean behaviour."""
    if behaviour == "judol_hidden_links" and _pick(code, 2):
        return "P2"
    return PATTERNS.get(behaviour)


def is_crawler(headers: Mapping[str, str]) -> bool:
    """P8: the cloakers' test, a Google crawler User-Agent (not verified by reverse DNS)."""
    return bool(_CRAWLER.search(headers.get("user-agent", "")))


def from_search(headers: Mapping[str, str]) -> bool:
    """P9: a visitor arriving from a Google results page (google.com, google.co.id...)."""
    return bool(_SEARCH.match(headers.get("referer", "")))


def doorways(code: str, seed: int) -> list[str]:
    """P6 doorway values (`/?buls=<value>`): gambling slug plus a brand-shaped token."""
    names = [f"{s}-{b}{x}" for s in _SLUGS for b in _BRANDS for x in _SUFFIXES]
    return random.Random(f"{seed}:{code}:doorways").sample(names, DOORWAYS)


def _links(pairs: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f'<a href="{escape(h)}">{escape(t)}</a>' for h, t in pairs)


def hidden_block(code: str) -> tuple[str, str]:
    """(markup for <head>, markup for the footer) of P1 (inline style) or P2 (class rule)."""
    rng = random.Random(f"{code}:hidden")
    links = _links(tuple(rng.sample(HIDDEN_LINKS, rng.randint(3, 5))))
    if pattern_of("judol_hidden_links", code) == "P1":
        style = HIDING_STYLES[_pick(code[::-1], len(HIDING_STYLES))]
        return "", f'<div style="{style}">\n{links}\n</div>\n'
    cls = f"wdg-{_pick(code, 4096):03x}"
    return f"<style>.{cls}{{{HIDING_RULE}}}</style>\n", f'<div class="{cls}">\n{links}\n</div>\n'


def _insert_before(text: str, marker: str, snippet: str) -> str:
    at = text.rfind(marker)
    return text if at < 0 else text[:at] + snippet + text[at:]


def _with_hidden_links(text: str, code: str) -> str:
    head, block = hidden_block(code)
    if head:
        text = _insert_before(text, "</head>", head)
    marker = "</footer>" if "</footer>" in text else "</body>"
    return _insert_before(text, marker, block)


def _with_spam_head(text: str, village: SimVillage) -> str:
    """P12: title keeps the village name, description and Open Graph tags are replaced."""
    title = f"{village.sebutan} {village.name} | Slot Gacor Gampang Menang"
    tags = (
        f"<title>{escape(title)}</title>\n"
        f'<meta name="description" content="{HEAD_DESCRIPTION}">\n'
        f'<meta property="og:title" content="{HEAD_OG_TITLE}">\n'
        f'<meta property="og:description" content="{HEAD_DESCRIPTION}">'
    )
    text = _SEO_META.sub("", text)
    return _TITLE.sub(lambda _: tags, text, count=1)


def _with_redirect(text: str, code: str) -> str:
    """P11: a meta refresh or a script sending every visitor off-site, per village."""
    if _pick(code, 2):
        snippet = f'<script>window.location.href="{REDIRECT_TARGET}";</script>'
    else:
        snippet = f'<meta http-equiv="refresh" content="0;url={REDIRECT_TARGET}">'
    return _HEAD_OPEN.sub(lambda m: f"{m.group(0)}\n{snippet}", text, count=1)


def transform(behaviour: str, info: SiteInfo, path: str, page: Page) -> Page:
    """The page as the compromised site serves it to everyone (P1, P2, P11, P12; P7's
    `Sitemap:` lines in robots.txt)."""
    if behaviour == "judol_doorway_sitemap" and path == "/robots.txt" and page.status == 200:
        lines = f"\nSitemap: {info.base}/sitemap.xml\nSitemap: {info.base}/brand-map-1.xml\n"
        return replace(page, body=page.body + lines.encode())
    if not page.content_type.startswith("text/html") or b"</head>" not in page.body:
        return page
    text, code = page.body.decode(), info.village.code
    if behaviour == "judol_hidden_links":
        text = _with_hidden_links(text, code)
    elif behaviour == "judol_head":
        text = _with_spam_head(text, info.village)
    elif behaviour == "judol_redirect":
        text = _with_redirect(text, code)
    else:
        return page
    return replace(page, body=text.encode())


def route(behaviour: str, view: SiteView, path: str, query: str) -> Page | None:
    """P6/P7 pages the kit adds: the doorway sitemap (over the site's own, listing its articles
    too) and the doorway landing pages; None for every other request."""
    if behaviour != "judol_doorway_sitemap":
        return None
    info = view.info
    values = doorways(info.village.code, info.seed)
    if path in ("/sitemap.xml", "/sitemap", "/brand-map-1.xml"):
        urls = [info.article_url(a) for a in view.articles[:50]]
        locs = [f"{info.base}/", *urls, *(f"{info.base}/?{DOORWAY_PARAM}={v}" for v in values)]
        body = "\n".join(f"<url><loc>{escape(loc)}</loc></url>" for loc in locs)
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}\n</urlset>\n'
        )
        return Page(200, text.encode(), XML, validators=False)
    asked = parse_qs(query).get(DOORWAY_PARAM)
    if path not in ("/", "/index.php") or not asked:
        return None
    if asked[0] not in values:  # the kit answers 404 to anything but its own brands
        return Page(404, simple_page("404 Not Found").encode(), HTML, validators=False)
    return Page(200, landing_page(asked[0]).encode(), HTML, validators=False)


def landing_page(value: str) -> str:
    """P5/P6: an AMP landing page for one brand, external canonical and amphtml."""
    brand = value.rsplit("-", 1)[-1]
    name = brand.upper()
    return (
        '<!doctype html>\n<html amp lang="id">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name}: Situs Slot Gacor Resmi Gampang Maxwin</title>\n"
        f'<meta name="description" content="Daftar {name} link alternatif slot gacor server '
        'Thailand hari ini.">\n<meta name="robots" content="index, follow">\n'
        f'<link rel="canonical" href="https://{brand}-resmi.example/">\n'
        f'<link rel="amphtml" href="https://amp-{brand}.example/">\n</head>\n<body>\n'
        f"<h1>{name} Link Slot Gacor Maxwin Hari Ini</h1>\n"
        f"<p>{name} situs slot online terpercaya, bocoran rtp live, bonus new member 100%, "
        "deposit pulsa tanpa potongan.</p>\n"
        f'<a href="https://daftar-{brand}.example/">DAFTAR</a>\n'
        f'<a href="https://login-{brand}.example/">LOGIN</a>\n</body>\n</html>\n'
    )


def crawler_page(info: SiteInfo) -> Page:
    """P8: what a Googlebot User-Agent is served instead of any HTML page of the site."""
    v = info.village
    links = "\n".join(
        f'<li><a href="{escape(h)}">{escape(t)}</a></li>' for h, t in HIDDEN_LINKS[:5]
    )
    text = (
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{CRAWLER_TITLE}</title>\n"
        f'<meta name="description" content="{v.sebutan} {escape(v.name)}: daftar slot gacor '
        'maxwin, rtp live hari ini, bonus new member 100%.">\n'
        '<meta name="robots" content="index, follow">\n</head>\n<body>\n'
        f"<h1>{v.sebutan} {escape(v.name)} slot gacor maxwin</h1>\n"
        "<p>Situs slot online terpercaya dengan bocoran rtp live dan pola slot gacor hari ini. "
        "Deposit pulsa tanpa potongan, wd cepat.</p>\n"
        f"<ul>\n{links}\n</ul>\n</body>\n</html>\n"
    )
    return Page(200, text.encode(), HTML, validators=False)
