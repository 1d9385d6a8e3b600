"""Which OpenSID page answers a path: optional `index.php/` prefix, legacy
CodeIgniter `first/...` paths, padded or unpadded article dates, era-specific routes.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from . import opensid_api, opensid_feed, opensid_pages, opensid_theme
from .model import WIB, Article
from .render import STYLESHEET, XML, Page, SiteView, html_page

_ARTICLE = re.compile(r"(?:/first)?/artikel/(\d{4})/(\d{1,2})/(\d{1,2})/([^/]+)")
_HOME = re.compile(r"(?:/first)?/index/(\d+)|/first")
_ARCHIVE = re.compile(r"(?:/first)?/arsip(?:/(\d+))?")
_SERVICE = re.compile(r"/(lapak|pembangunan|pengaduan|pemerintah)(?:/(?:index/)?\d+)?")
ROBOTS = (
    "User-agent: *\nDisallow: /donjo-app/\nDisallow: /desa/\nDisallow: /template-surat/\n"
    "Disallow: /securimage/\nDisallow: /backup_inkremental/\nAllow: /\n"
)


def article_slug(path: str) -> str | None:
    """The slug when `path` is an article page's."""
    path = path.removeprefix("/index.php")
    match = _ARTICLE.fullmatch(path.rstrip("/"))
    return match.group(4) if match else None


def find(articles: list[Article], y: int, m: int, d: int, slug: str) -> Article | None:
    """The published article with that date (WIB) and slug, if any."""
    for art in articles:
        local = art.published_at.astimezone(WIB)
        if (local.year, local.month, local.day, art.slug) == (y, m, d, slug):
            return art
    return None


def _feed(view: SiteView) -> Page:
    items = view.articles[: opensid_feed.FEED_ITEMS]
    body = opensid_feed.feed_xml(view.info, items, view.now).encode()
    newest = items[0].published_at if items else None
    return Page(200, body, XML, last_modified=newest)


def _html(text: str | None) -> Page | None:
    return None if text is None else html_page(text)


def route(view: SiteView, path: str, query: str) -> Page | None:
    """The page for `path` (already stripped of a trailing slash), or None for a 404."""
    if path == "/index.php" or path.startswith("/index.php/"):
        path = path[len("/index.php") :] or "/"
    era = view.info.spec.era
    if path == "/":
        page = parse_qs(query).get("page", ["1"])[0] if era == "blade" else "1"
        return _html(opensid_theme.home_page(view, int(page) if page.isdigit() else 1))
    if path in ("/feed", "/feed.xml"):
        return _feed(view)
    if path in ("/sitemap", "/sitemap.xml"):
        rows = sorted([*view.scheduled, *view.unlisted], key=lambda a: a.published_at, reverse=True)
        return Page(200, opensid_feed.sitemap_xml(view.info, rows).encode(), XML)
    if match := _ARTICLE.fullmatch(path):
        y, m, d, slug = match.groups()
        art = find(view.articles, int(y), int(m), int(d), slug)
        if art is None and (row := find(list(view.unlisted), int(y), int(m), int(d), slug)):
            if row.category:  # the disabled draft: a soft 404 answered with 200
                return _html(opensid_theme.soft_404_page(view))
            art = row  # the static page: an article page without category
        if art is None:
            return None
        body = opensid_theme.article_page(view, art).encode()
        return Page(200, body, last_modified=art.published_at)
    if era != "blade" and (match := _HOME.fullmatch(path)):
        return _html(opensid_theme.home_page(view, int(match.group(1) or 1)))
    if match := _ARCHIVE.fullmatch(path):
        if era == "php" and path.startswith("/first/arsip/"):
            return None  # the pagers link first/arsip/N, a 404 on real 2410
        archive = opensid_theme.archive_page(view, int(match.group(1) or 1))
        if archive is None and era == "php":  # past the last page: count(false) in the theme
            return html_page(opensid_theme.error_page(view), 500)
        return _html(archive)
    if match := _SERVICE.fullmatch(path):
        service = opensid_pages.service_page(view, match.group(1))
        if service is not None and opensid_pages.theme_lacks_views(view):
            return html_page(opensid_pages.missing_view_page(view, match.group(1)), 500)
        return _html(service)
    if path == "/ppid":
        return opensid_api.ppid(view, query)
    if path.startswith("/internal_api/"):
        return opensid_api.internal_api(view, path.removeprefix("/internal_api/"), query)
    if path == "/siteman":
        return html_page(opensid_theme.siteman_page(view.info))
    if path == "/robots.txt":
        return Page(200, ROBOTS.encode(), "text/plain; charset=UTF-8")
    if path.endswith("/css/style.css") or path == "/theme_asset/" + view.info.spec.theme:
        return Page(200, STYLESHEET.encode(), "text/css; charset=UTF-8")
    return None


def not_found(view: SiteView) -> Page:
    return html_page(opensid_theme.not_found_page(view), 404)
