"""What every kind's renderer shares: the site/request view, the Page a route answers with, and
small text helpers (CDATA, excerpts, Indonesian numbers and dates, bare error pages).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape

from .content import tanggal
from .kinds import KindSpec
from .model import WIB, Article, SimVillage
from .services import Services, Visitors

_TAG = re.compile(r"<[^>]*>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
EXCERPT_CHARS = 200
HTML = "text/html; charset=UTF-8"
XML = "text/xml; charset=UTF-8"
JSON = "application/json; charset=UTF-8"
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


@dataclass(frozen=True)
class SiteInfo:
    """What every page of one site needs: the village, its kind and its base url."""

    village: SimVillage
    spec: KindSpec
    base: str  # "http://127.0.0.1:40123" (no trailing slash)
    visitors: Visitors
    seed: int

    def site_url(self, path: str) -> str:
        """OpenSID `site_url()`: "index.php/" is kept unless the site has a .htaccess."""
        return self.base + ("" if self.spec.pretty_urls else "/index.php") + path

    def article_url(self, art: Article) -> str:
        """The article's canonical url as this site links it (feed, lists)."""
        local = art.published_at.astimezone(WIB)
        y, m, d = local.year, local.month, local.day
        if self.spec.platform == "opensid":  # MySQL YEAR/MONTH/DAY: not zero-padded
            return self.site_url(f"/artikel/{y}/{m}/{d}/{art.slug}")
        if self.spec.platform == "wordpress":
            return f"{self.base}/{y}/{m:02d}/{d:02d}/{art.slug}/"
        if self.spec.platform == "feed":
            return f"{self.base}/{y}/{m:02d}/{art.slug}.html"
        return f"{self.base}/berita/{art.slug}"


@dataclass(frozen=True)
class SiteView:
    """One site at one moment: what a route renders from."""

    info: SiteInfo
    articles: list[Article]  # published at `now`, newest first
    scheduled: list[Article]  # every article, future ones included (OpenSID sitemap lists them)
    now: datetime
    services: Services
    unlisted: tuple[Article, ...] = ()  # OpenSID: a disabled draft and a static page


@dataclass(frozen=True)
class Page:
    """A route's answer before content coding; 200 pages get an ETag unless validators=False."""

    status: int
    body: bytes
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    last_modified: datetime | None = None
    validators: bool = True


def html_page(text: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Page:
    return Page(status, text.encode(), HTML, headers)


def json_page(
    data: object,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    prefix: str = "",
) -> Page:
    """JSON the way PHP's json_encode writes it (slashes escaped, non-ascii as \\u escapes)."""
    text = json.dumps(data, separators=(",", ":")).replace("/", "\\/")
    return Page(status, (prefix + text).encode(), JSON, headers, validators=False)


def redirect(location: str, status: int = 301) -> Page:
    return Page(status, b"", HTML, (("Location", location),), validators=False)


def cdata(text: str) -> str:
    """Wrap text in CDATA, splitting any "]]>" it contains."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def excerpt(body_html: str, limit: int = EXCERPT_CHARS) -> str:
    """Plain text of an HTML body, cut at a word boundary near `limit` characters."""
    text = " ".join(unescape(_TAG.sub(" ", _SCRIPT.sub(" ", body_html))).split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def angka(number: int, sep: str = ".") -> str:
    """Thousands separator: 12345 -> "12.345" (Indonesian) or "12,345" (number_format)."""
    return f"{number:,}".replace(",", sep)


def tanggal_padded(moment: datetime) -> str:
    """OpenSID theme date "05 September 2024" (WIB, day zero-padded)."""
    text = tanggal(moment)
    return text if text[1] != " " else "0" + text


def hari_tanggal(moment: datetime) -> str:
    """ "Kamis, 23 Januari 2025" (WIB)."""
    return f"{DAYS[moment.astimezone(WIB).weekday()]}, {tanggal(moment)}"


def error_500_page(spec: KindSpec) -> str:
    """The bare page a broken install answers with (a database error on PHP platforms)."""
    if spec.platform == "wordpress":
        return (
            '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8">\n'
            '<title>Database Error</title>\n</head>\n<body id="error-page">\n'
            "<h1>Error establishing a database connection</h1>\n</body>\n</html>\n"
        )
    if spec.platform != "opensid":
        return simple_page("500 Internal Server Error")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<title>Database Error</title>\n</head>\n<body>\n<div id="container">\n'
        "<h1>A Database Error Occurred</h1>\n"
        "<p>Unable to connect to your database server using the provided settings.</p>\n"
        "<p>Filename: core/Loader.php</p>\n<p>Line Number: 346</p>\n</div>\n</body>\n</html>\n"
    )


def simple_page(status_line: str) -> str:
    """A tiny web-server-level page (405, 400...)."""
    text = escape(status_line)
    return f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>\n"


STYLESHEET = (
    "body{font-family:sans-serif;margin:0;color:#222}\n"
    ".header-desa{background:#0b6e4f;color:#fff;padding:1rem}\n"
    ".container{display:flex;gap:1rem;padding:1rem}\n"
    ".counter td{padding:.2rem .5rem}\n"
)
