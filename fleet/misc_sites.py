"""The two non-CMS-specific kinds: a Blogger-like site publishing an Atom feed ("atom"), and a
hand-made site with no feed at all whose home page lists news in stable markup ("html-only").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import escape
from urllib.parse import parse_qs

from .model import WIB, Article
from .render import STYLESHEET, Page, SiteInfo, SiteView, excerpt, hari_tanggal, html_page

ATOM_ITEMS = 25  # Blogger's default max-results
LIST_ITEMS = 10
# The scraping rules a district config gives for html-only sites (settings.HTML_RULE_KEYS).
HTML_RULES_NAME = "berita-item"
HTML_RULES = {
    "item": "div.berita-item",
    "title": "h3 a",
    "link": "h3 a",
    "date": "span.tanggal",
    "date_format": "%A, %d %B %Y",
    "summary": "p",
    "image": "img.gambar",
    "category": "span.kategori",
    "next": "a.selanjutnya",
}
_BLOGGER_POST = re.compile(r"/(\d{4})/(\d{2})/([^/]+)\.html")
_BERITA = re.compile(r"/berita/([^/]+)")


def _iso(moment: datetime) -> str:
    return moment.astimezone(WIB).isoformat(timespec="milliseconds")


def _blog_id(site: SiteInfo) -> str:
    return "7" + site.village.code.replace(".", "") + "05"


def updated_at(art: Article, now: datetime) -> datetime:
    return min(art.published_at + timedelta(minutes=art.id % 30), max(now, art.published_at))


def _next_link(base: str, start: int, size: int, total: int) -> str:
    """Blogger's RFC 5005 paging link, present while older posts remain."""
    if start - 1 + size >= total:
        return ""
    href = f"{base}/feeds/posts/default?start-index={start + size}&amp;max-results={size}"
    return f"<link rel='next' type='application/atom+xml' href='{href}'/>"


def atom_xml(view: SiteView, query: str) -> str:
    """Blogger-style Atom: `max-results` and `start-index` page through every post."""
    site, v = view.info, view.info.village
    params = parse_qs(query)
    size = params.get("max-results", [str(ATOM_ITEMS)])[0]
    start = params.get("start-index", ["1"])[0]
    size_n = min(500, int(size)) if size.isdigit() and int(size) > 0 else ATOM_ITEMS
    start_n = int(start) if start.isdigit() and int(start) > 0 else 1
    items = view.articles[start_n - 1 : start_n - 1 + size_n]
    b, blog = escape(site.base), _blog_id(site)
    newest = max((updated_at(a, view.now) for a in view.articles), default=view.now)
    entries = []
    for art in items:
        url = escape(site.article_url(art))
        entries.append(
            f"<entry><id>tag:blogger.com,1999:blog-{blog}.post-{art.id}</id>"
            f"<published>{_iso(art.published_at)}</published>"
            f"<updated>{_iso(updated_at(art, view.now))}</updated>"
            "<category scheme='http://www.blogger.com/atom/ns#' "
            f"term='{escape(art.category, quote=True)}'/>"
            f"<title type='text'>{escape(art.title)}</title>"
            f"<content type='html'>{escape(art.body_html)}</content>"
            f"<link rel='alternate' type='text/html' href='{url}' "
            f"title='{escape(art.title, quote=True)}'/>"
            "<author><name>Admin Desa</name></author></entry>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
        "xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/'>"
        f"<id>tag:blogger.com,1999:blog-{blog}</id><updated>{_iso(newest)}</updated>"
        f"<title type='text'>{v.sebutan} {escape(v.name)}</title>"
        f"<subtitle type='html'>Kecamatan {escape(v.kecamatan_name)}, Kabupaten Purbalingga"
        "</subtitle>"
        f"<link rel='self' type='application/atom+xml' href='{b}/feeds/posts/default'/>"
        f"<link rel='alternate' type='text/html' href='{b}/'/>"
        f"{_next_link(b, start_n, size_n, len(view.articles))}"
        "<author><name>Admin Desa</name></author>"
        "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>"
        f"<openSearch:totalResults>{len(view.articles)}</openSearch:totalResults>"
        f"<openSearch:startIndex>{start_n}</openSearch:startIndex>"
        f"<openSearch:itemsPerPage>{size_n}</openSearch:itemsPerPage>"
        f"{''.join(entries)}</feed>"
    )


def _page(site: SiteInfo, title: str, main: str, head: str = "") -> str:
    v = site.village
    return (
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n{head}</head>\n<body>\n"
        f'<header><h2 class="nama-desa">{v.sebutan} {escape(v.name)}</h2></header>\n'
        f'<main class="konten">\n{main}\n</main>\n'
        f"<footer><p>&copy; Pemerintah {v.sebutan} {escape(v.name)}, Kecamatan "
        f"{escape(v.kecamatan_name)}</p></footer>\n</body>\n</html>\n"
    )


def _blogger_home(view: SiteView) -> str:
    site, v = view.info, view.info.village
    b = escape(site.base)
    head = (
        "<meta content='blogger' name='generator'/>\n"
        f'<link rel="alternate" type="application/atom+xml" title="{v.sebutan} '
        f'{escape(v.name)} - Atom" href="{b}/feeds/posts/default" />\n'
    )
    posts = "\n".join(
        f'<div class="post"><h3 class="post-title"><a href="{escape(site.article_url(a))}">'
        f"{escape(a.title)}</a></h3>"
        f'<abbr class="published" title="{_iso(a.published_at)}">{hari_tanggal(a.published_at)}'
        f'</abbr><div class="post-body">{escape(excerpt(a.body_html, 160))}</div></div>'
        for a in view.articles[:LIST_ITEMS]
    )
    return _page(site, f"{v.sebutan} {v.name}", posts, head)


def _item(site: SiteInfo, art: Article) -> str:
    """One entry of the html-only list; links and images are root-relative."""
    return (
        '<div class="berita-item">\n'
        f'<img class="gambar" src="/uploads/berita/{escape(art.image)}" alt="">\n'
        f'<h3><a href="/berita/{escape(art.slug)}">{escape(art.title)}</a></h3>\n'
        f'<span class="tanggal">{hari_tanggal(art.published_at)}</span>\n'
        f'<span class="kategori">{escape(art.category)}</span>\n'
        f"<p>{escape(excerpt(art.body_html, 160))}</p>\n</div>"
    )


def _listing(view: SiteView, page: int) -> str | None:
    count = max(1, -(-len(view.articles) // LIST_ITEMS))
    if not 1 <= page <= count:
        return None
    chunk = view.articles[(page - 1) * LIST_ITEMS : page * LIST_ITEMS]
    items = "\n".join(_item(view.info, a) for a in chunk) or "<p>Belum ada berita.</p>"
    more = f'<a class="selanjutnya" href="/berita?page={page + 1}">Berita Lainnya</a>'
    v = view.info.village
    main = f'<div class="daftar-berita">\n{items}\n</div>\n{more if page < count else ""}'
    return _page(view.info, f"Website Resmi {v.sebutan} {v.name}", main)


def _article(site: SiteInfo, art: Article) -> str:
    main = (
        f'<h1 class="judul-berita">{escape(art.title)}</h1>\n'
        f'<span class="tanggal">{hari_tanggal(art.published_at)}</span>\n'
        f'<div class="isi-berita">\n{art.body_html}\n</div>'
    )
    return _page(site, art.title, main)


def _html(text: str | None) -> Page | None:
    return None if text is None else Page(200, text.encode(), validators=False)


def route_atom(view: SiteView, path: str, query: str) -> Page | None:
    if path in ("/", "/index.html"):
        return _html(_blogger_home(view))
    if path in ("/feeds/posts/default", "/feeds/posts/default/"):
        body = atom_xml(view, query).encode()
        newest = max((updated_at(a, view.now) for a in view.articles), default=None)
        return Page(200, body, "application/atom+xml; charset=UTF-8", last_modified=newest)
    if _BLOGGER_POST.fullmatch(path):
        for art in view.articles:
            if view.info.article_url(art) == view.info.base + path:
                main = (
                    f"<h1>{escape(art.title)}</h1>\n"
                    f'<div class="post-body">\n{art.body_html}\n</div>'
                )
                return _html(_page(view.info, art.title, main))
        return None
    return _common(view, path, "User-agent: *\nDisallow: /search\nAllow: /\n")


def route_html(view: SiteView, path: str, query: str) -> Page | None:
    if path in ("/", "/index.php"):
        return _html(_listing(view, 1))
    if path == "/berita":
        page = parse_qs(query).get("page", ["1"])[0]
        return _html(_listing(view, int(page) if page.isdigit() else 0))
    if match := _BERITA.fullmatch(path.rstrip("/")):
        for art in view.articles:
            if art.slug == match.group(1):
                return _html(_article(view.info, art))
        return None
    return _common(view, path, "User-agent: *\nAllow: /\n")


def _common(view: SiteView, path: str, robots: str) -> Page | None:
    if path == "/robots.txt":
        return Page(200, robots.encode(), "text/plain; charset=UTF-8", validators=False)
    if path.endswith(".css"):
        return Page(200, STYLESHEET.encode(), "text/css; charset=UTF-8")
    return None


def not_found(view: SiteView) -> Page:
    return html_page(_page(view.info, "404 Not Found", "<h1>Halaman tidak ditemukan</h1>"), 404)
