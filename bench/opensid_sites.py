"""OpenSID-like village sites for bench_poll.py: what a 24.10 site answers, by path.

A home page with OpenSID's markers (esensi theme assets, "OpenSID v24.10" in the footer),
its visitor widget, a menu with the self-service (layanan mandiri) button as real 24.10
themes show it, and a dozen article teasers; a feed without validators (no ETag,
no Last-Modified: the poller compares body digests); the service pages a 24.10 serves
(/ppid JSON, pemerintah and the self-service sign-in small pages, lapak, pembangunan and
pengaduan 404 as when left out of the menu); a sitemap listing the feed's articles and two
older ones; article pages naming their category; robots.txt a 404.

Two kinds of pages (`pages`):

- "real" (the default of bench_poll.py): the home page, the article pages and every
  service page are the ones a real OpenSID 2410 served (esensi theme, with content:
  tests/fixtures/opensid_real/2410/filled, 28-68 kB), each under the village's own host;
  the feed and the sitemap are generated as below, so a pass can add an article;
- "small": the generated pages above (a 5 kB home page, 0.4 kB article pages), what
  bench_poll.py served before the real ones: cheaper to parse than any real theme.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path

from fleet.corpus import MONTHS

KINDS = ("home", "robots", "feed", "service", "sitemap", "arsip", "article", "other")
OLDER = 2  # articles the sitemap lists beyond the feed's
PAGES = ("real", "small")

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "opensid_real"
RECORDED_SITE = RECORDED / "2410" / "filled" / "esensi"
RECORDED_BASE = b"http://127.0.0.1:8241"  # the host the recordings name


def kind_of(path: str) -> str:
    path = path.split("?")[0]
    if path in ("/", "/index.php", "/index.php/"):
        return "home"
    if path == "/robots.txt":
        return "robots"
    if path.endswith("/feed"):
        return "feed"
    if path.endswith("sitemap.xml"):
        return "sitemap"
    if path.startswith(("/index.php/arsip", "/index.php/first/arsip")):
        return "arsip"
    if "/artikel/" in path:
        return "article"
    if path.startswith("/index.php/"):
        return "service"
    return "other"


def article_url(base: str, n: int, when: datetime) -> str:
    return f"{base}/index.php/artikel/{when.year}/{when.month}/{when.day}/berita-{n}"


def dates(i: int, now: datetime, first: int, last: int) -> list[tuple[int, datetime]]:
    return [(n, now - timedelta(days=n * 3, hours=i % 24)) for n in range(first, last)]


def feed(base: str, i: int, items: int, now: datetime, generation: int) -> bytes:
    """An OpenSID-shaped feed (no XML declaration, +0700 dates, CDATA bodies); each
    generation adds one newer article on top and drops the oldest."""
    parts = [
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>Desa Uji {i}</title><link>{base}/</link>",
        "<dc:rights>Copyright 2016-2026 OpenDesa - OpenSID 24.10</dc:rights>",
    ]
    for n, when in dates(i, now, -generation, items - generation):
        link = article_url(base, n, when)
        body = (
            f"<p>Pemerintah Desa Uji {i} melaksanakan kegiatan ke-{n} bersama warga RT 0{n % 9}."
            " Kegiatan dihadiri perangkat desa, BPD, PKK dan karang taruna.</p>" * 4
        )
        parts.append(
            f"<item><title>Kegiatan desa ke-{n} &amp; musyawarah</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{format_datetime(when)}</pubDate>"
            "<category><![CDATA[Berita Desa]]></category>"
            f"<description><![CDATA[{body[:260]} [...]]]></description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def home(base: str, i: int, now: datetime, generation: int) -> bytes:
    teasers = "".join(
        f'<article class="post"><h2><a href="{article_url(base, n, when)}">Kegiatan desa '
        f'ke-{n} &amp; musyawarah</a></h2><p class="meta">{when:%d %B %Y}</p>'
        f"<p>Pemerintah Desa Uji {i} melaksanakan kegiatan ke-{n} bersama warga.</p>"
        '<a class="more" href="#">Selengkapnya</a></article>'
        for n, when in dates(i, now, -generation, 12 - generation)
    )
    menu = "".join(
        f'<li><a href="{base}/index.php/{path}">{label}</a></li>'
        for path, label in (
            ("artikel/1", "Profil Desa"),
            ("pemerintah", "Pemerintah Desa"),
            ("first/kategori/berita-desa", "Berita Desa"),
            ("galeri", "Galeri"),
        )
    )
    page = (
        "<!DOCTYPE html><html lang='id'><head><meta charset='utf-8'>"
        f"<title>Website Desa Uji {i}</title>"
        f'<link rel="stylesheet" href="{base}/desa/themes/esensi/assets/css/style.css?v=2410">'
        f'<link rel="alternate" type="application/rss+xml" href="{base}/index.php/feed">'
        f'<script src="{base}/desa/themes/esensi/assets/js/app.js"></script></head><body>'
        f'<header><img src="{base}/desa/logo/logo.png" alt="logo"><h1>Desa Uji {i}</h1></header>'
        f"<nav><ul>{menu}</ul>"
        # Both themes 24.10 bundles link the self-service sign-in from every page (the
        # recordings of real 2410 in tests/fixtures/opensid_real/2410, every state).
        f'<a href="{base}/index.php/layanan-mandiri" class="btn btn-primary">Layanan Mandiri</a>'
        f"</nav><main>{teasers}</main>"
        '<aside><h3>Statistik Pengunjung</h3><table class="counter">'
        f"<tr><td>Hari ini</td><td>:</td><td>{(i * 7 + generation) % 90 + 3}</td></tr>"
        f"<tr><td>Kemarin</td><td>:</td><td>{(i * 11) % 120 + 5}</td></tr>"
        f"<tr><td>Total Pengunjung</td><td>:</td><td>{10_000 + i * 37}</td></tr>"
        "</table></aside>"
        "<footer><p>Hak cipta Desa Uji. Didukung OpenSID v24.10</p></footer></body></html>"
    )
    return page.encode()


def sitemap(base: str, i: int, items: int, now: datetime, generation: int) -> bytes:
    urls = "".join(
        f"<url><loc>{article_url(base, n, when)}</loc><lastmod>{when:%Y-%m-%d}</lastmod></url>"
        for n, when in dates(i, now, -generation, items - generation + OLDER)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/</loc></url>{urls}</urlset>"
    ).encode()


ARSIP_PER_PAGE = 20  # as real 2410
# The real 2410 esensi archive page (tests/fixtures/opensid_real/2410/catalogue): its frame
# around the generated list and pager.
RECORDED_ARSIP = RECORDED / "2410" / "catalogue" / "esensi" / "arsip.html"


@cache
def _arsip_frame() -> tuple[bytes, bytes]:
    page = RECORDED_ARSIP.read_bytes()
    start = page.index(b'<ol class="divide-y mb-5">')
    return page[:start], page[page.index(b"</main>", start) :]


def arsip(base: str, path: str, i: int, items: int, now: datetime, generation: int) -> bytes | None:
    """Archive page N as real 2410 esensi renders it: every article the sitemap lists
    (feed's and older), newest first, 20 a page, the pager linking first/arsip/N; None
    past the last page (a 500 there) and for the pager's own first/arsip/N (a 404)."""
    if "/first/" in path:
        return None
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    number = int(tail) if tail.isdigit() else 1
    rows = dates(i, now, -generation, items - generation + OLDER)
    last = max(1, -(-len(rows) // ARSIP_PER_PAGE))
    if not 1 <= number <= last:
        return None
    chunk = rows[(number - 1) * ARSIP_PER_PAGE : number * ARSIP_PER_PAGE]
    listing = "".join(
        f'<li class="py-5"><a class="text-h6" href="{article_url(base, n, when)}">Kegiatan desa '
        f"ke-{n} &amp; musyawarah</a><p>Diterbitkan pada {when.day:02d} "
        f"{MONTHS[when.month - 1]} {when.year}</p><p>Oleh: Administrator</p></li>"
        for n, when in chunk
    )
    pager = "".join(
        f'<li class="page-item"><a href="{base}/index.php/first/arsip/{k}">{k}</a></li>'
        for k in range(1, last + 1)
    )
    head, foot = _arsip_frame()
    middle = (
        f'<ol class="divide-y mb-5">{listing}</ol><p>Halaman {number} dari {last}</p>'
        f'<ul class="pagination">{pager}</ul>'
    )
    return (
        head.replace(RECORDED_BASE, base.encode())
        + middle.encode()
        + foot.replace(RECORDED_BASE, base.encode())
    )


def article(base: str, path: str) -> bytes:
    slug = path.rstrip("/").rsplit("/", 1)[-1]
    title = slug.replace("-", " ").title()
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f'<meta property="og:title" content="{title}"><title>{title}</title></head><body>'
        f'<nav class="breadcrumb"><a href="{base}/">Beranda</a>'
        f'<a href="{base}/index.php/first/kategori/berita-desa">Berita Desa</a></nav>'
        f"<article><h1>{title}</h1><p>Isi berita desa.</p></article></body></html>"
    ).encode()


PPID = b'{"status":"success","data":{"ppid":[],"total data":0}}'
PEMERINTAH = (
    b"<!DOCTYPE html><html><body><h1>Pemerintah Desa</h1><div class='aparatur'>"
    b"<div class='card'><h3>Sutrisno</h3><p>Kepala Desa</p></div>"
    b"<div class='card'><h3>Wahyuni</h3><p>Sekretaris Desa</p></div></div></body></html>"
)
MANDIRI = (
    b"<!DOCTYPE html><html><body><form action='layanan-mandiri/cek'>"
    b"<input name='nik'><input name='password' type='password'></form>"
    b"<footer>OpenSID v24.10</footer></body></html>"
)


@cache
def recorded_pages() -> dict[str, tuple[int, str, bytes]]:
    """Path -> (status, content type, body) of the real 2410 pages (pages_2410_filled.txt
    lists which path each recording answers, index.json its status: esensi's lapak,
    pemerintah, pembangunan and pengaduan are a 500 there); "article" is the article page
    any article path gets. The feed and the sitemap are left out: they are generated."""
    types = {".html": "text/html; charset=UTF-8", ".json": "application/json"}
    statuses = {
        name: int(entry["status"])
        for name, entry in json.loads((RECORDED_SITE / "index.json").read_text()).items()
    }
    pages: dict[str, tuple[int, str, bytes]] = {}
    for line in (RECORDED / "pages_2410_filled.txt").read_text().splitlines():
        name, _, path = line.partition("=")
        if line.startswith("#") or not path or path.startswith("ajax:"):
            continue
        for suffix, kind in types.items():
            if (RECORDED_SITE / (name + suffix)).exists():
                key = "article" if name == "article" else path.split("?")[0]
                body = (RECORDED_SITE / (name + suffix)).read_bytes()
                pages[key] = (statuses.get(name, 200), kind, body)
    pages.pop("/", None)
    home_page = (RECORDED_SITE / "home.html").read_bytes()
    pages["home"] = (200, "text/html; charset=UTF-8", home_page)
    return pages


def respond_recorded(path: str, base: str) -> tuple[int, str, Callable[[], bytes]] | None:
    """A real 2410 page for `path` as village `base` would serve it, or None."""
    kind = kind_of(path)
    pages = recorded_pages()
    key = kind if kind in ("home", "article") else path.split("?")[0]
    if key not in pages:
        return None
    status, content_type, body = pages[key]
    return status, content_type, lambda: body.replace(RECORDED_BASE, base.encode())


def respond(
    path: str,
    base: str,
    i: int,
    items: int,
    now: datetime,
    generation: int,
    pages: str = "real",
) -> tuple[int, str, Callable[[], bytes]]:
    """(status, content type, body) of a request for `path` on village `i`'s site."""
    kind = kind_of(path)
    html = "text/html; charset=UTF-8"
    if kind == "arsip":
        page = arsip(base, path, i, items, now, generation)
        if page is None:
            return (404 if "/first/" in path else 500), html, lambda: b"<h1>Error</h1>"
        return 200, html, lambda: page
    if pages == "real" and kind not in ("feed", "sitemap", "robots"):
        return respond_recorded(path, base) or (404, html, lambda: b"<h1>404 Not Found</h1>")
    if kind == "home":
        return 200, html, lambda: home(base, i, now, generation)
    if kind == "feed":
        return 200, "text/xml; charset=UTF-8", lambda: feed(base, i, items, now, generation)
    if kind == "sitemap":
        return 200, "text/xml", lambda: sitemap(base, i, items, now, generation)
    if kind == "article":
        return 200, html, lambda: article(base, path)
    if path.startswith("/index.php/ppid"):
        return 200, "application/json", lambda: PPID
    if path.startswith("/index.php/pemerintah"):
        return 200, html, lambda: PEMERINTAH
    if path.startswith("/index.php/layanan-mandiri"):
        return 200, html, lambda: MANDIRI
    return 404, html, lambda: b"<html><body>404 Page Not Found</body></html>"
