"""One simulated village site: its state and how it answers a parsed request."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from . import render
from .content import village_rng
from .httpd import Request, Response
from .model import WIB, Article, RequestRecord, SimVillage

FEED_ITEMS = 50
HOME_ITEMS = 10
_ARTICLE = re.compile(r"(?:/index\.php)?/artikel/(\d{4})/(\d{1,2})/(\d{1,2})/([^/]+)")
_HTML = "text/html; charset=UTF-8"
_XML = "text/xml; charset=UTF-8"
FEED_PATHS = ("/index.php/feed", "/feed", "/feed.xml")
HOME_PATHS = ("/", "/index.php")


@dataclass(frozen=True)
class Rendered:
    """An uncompressed representation and its validators."""

    body: bytes
    content_type: str
    etag: str
    last_modified: datetime | None = None


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _weak_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20]}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _not_modified(request: Request, rendered: Rendered) -> bool:
    """RFC 9110 evaluation: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if (inm := request.headers.get("if-none-match")) is not None:
        tags = {_opaque(t) for t in inm.split(",")}
        return "*" in tags or _opaque(rendered.etag) in tags
    ims = request.headers.get("if-modified-since")
    if ims is None or rendered.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since >= rendered.last_modified.replace(microsecond=0)


def _wants_gzip(request: Request) -> bool:
    for item in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            return not re.fullmatch(r"q\s*=\s*0(\.0*)?", q)
    return False


class Site:
    """Mutable state of one village site; the fleet owns one per village."""

    def __init__(self, village: SimVillage, articles: list[Article], version: str, seed: int):
        self.village = village
        self.articles = articles  # newest first
        self.version = version
        self.port: int | None = None
        self.log: list[RequestRecord] = []
        rng = village_rng(seed, village.code, "visitors")
        self._visitors = (rng.randint(5, 300), rng.randint(8_000, 350_000))
        self._cache: dict[str, Rendered] = {}
        self._gzip_cache: dict[bytes, bytes] = {}

    def bind(self, port: int | None) -> None:
        """Record the listening port (None when stopped); rendered pages are invalidated."""
        self.port = port
        self._cache.clear()
        self._gzip_cache.clear()

    def add(self, article: Article) -> None:
        """Insert an article keeping newest-first order; rendered pages are invalidated."""
        self.articles.append(article)
        self.articles.sort(key=lambda a: (a.published_at, a.id), reverse=True)
        self._cache.clear()
        self._gzip_cache.clear()

    def info(self, host: str) -> render.SiteInfo:
        """Everything the renderers need about this site."""
        today, total = self._visitors
        host = f"[{host}]" if ":" in host else host
        base = f"http://{host}:{self.port}"
        return render.SiteInfo(self.village, self.version, base, today, total)

    def published(self, now: datetime) -> list[Article]:
        """Articles visible at `now`, newest first."""
        return [a for a in self.articles if a.published_at <= now]

    def find(self, year: int, month: int, day: int, slug: str, now: datetime) -> Article | None:
        """The published article with that date (WIB) and slug, if any."""
        for art in self.published(now):
            local = art.published_at.astimezone(WIB)
            if (local.year, local.month, local.day, art.slug) == (year, month, day, slug):
                return art
        return None

    def _render(self, key: str, host: str, now: datetime) -> Rendered | None:
        if key in self._cache:
            return self._cache[key]
        site = self.info(host)
        if key == "feed":
            items = self.published(now)[:FEED_ITEMS]
            body = render.feed_xml(site, items, now).encode()
            newest = items[0].published_at if items else None
            result = Rendered(body, _XML, _weak_etag(body), newest)
        elif key == "home":
            body = render.home_page(site, self.published(now)[:HOME_ITEMS], now).encode()
            result = Rendered(body, _HTML, _weak_etag(body))
        elif match := _ARTICLE.fullmatch(key):
            y, m, d, slug = match.groups()
            art = self.find(int(y), int(m), int(d), slug, now)
            if art is None:
                return None
            body = render.article_page(site, art, now).encode()
            result = Rendered(body, _HTML, _weak_etag(body), art.published_at)
        elif key == "/robots.txt":
            body = render.ROBOTS.encode()
            result = Rendered(body, "text/plain; charset=UTF-8", _weak_etag(body))
        elif key.startswith("/themes/esensi/assets/css/style.css"):
            body = render.STYLESHEET.encode()
            result = Rendered(body, "text/css; charset=UTF-8", _weak_etag(body))
        else:
            return None
        self._cache[key] = result
        return result

    def respond(self, request: Request, host: str, now: datetime) -> Response:
        """The answer of a working OpenSID site (behaviour down_500 is handled here too)."""
        date = ("Date", _http_date(now))
        server = [date, ("Server", "nginx"), ("X-Powered-By", "PHP/8.1.2")]
        if self.village.behaviour == "down_500":
            body = render.error_500_page().encode()
            headers = [*server, ("Content-Type", _HTML), ("Vary", "Accept-Encoding")]
            return Response(500, self._encode(request, body, headers), headers)
        if request.method not in ("GET", "HEAD"):
            body = render.simple_page("405 Not Allowed").encode()
            headers = [*server, ("Allow", "GET, HEAD"), ("Content-Type", _HTML)]
            return Response(405, body, headers)
        path = request.path.rstrip("/") or "/"
        key = "home" if path in HOME_PATHS else "feed" if path in FEED_PATHS else path
        rendered = self._render(key, host, now)
        if rendered is None:
            body = render.not_found_page(self.info(host), now).encode()
            headers = [*server, ("Content-Type", _HTML), ("Vary", "Accept-Encoding")]
            return Response(404, self._encode(request, body, headers), headers)
        headers = [*server, ("ETag", rendered.etag)]
        if rendered.last_modified is not None:
            headers.append(("Last-Modified", _http_date(rendered.last_modified)))
        if _not_modified(request, rendered):
            return Response(304, b"", headers)
        headers += [("Content-Type", rendered.content_type), ("Vary", "Accept-Encoding")]
        return Response(200, self._encode(request, rendered.body, headers), headers)

    def _encode(self, request: Request, body: bytes, headers: list[tuple[str, str]]) -> bytes:
        """Gzip `body` when the client accepts it, adding Content-Encoding to `headers`."""
        if not _wants_gzip(request):
            return body
        if "Content-Encoding" not in {name for name, _ in headers}:
            headers.append(("Content-Encoding", "gzip"))
        if body not in self._gzip_cache:
            self._gzip_cache[body] = gzip.compress(body, compresslevel=6, mtime=0)
        return self._gzip_cache[body]
