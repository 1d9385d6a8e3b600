"""One simulated village site: its state, and how it answers a parsed request (routing by kind,
then conditional GET, gzip and the down_500 behaviour, the same for every kind). Judol
compromises (judol.py), planted articles (planted.py) and the response-level and content faults
(faults.py, corrupt.py) hook in here; connection-level faults are in connections.py.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from . import corrupt, faults, judol, misc_sites, routes_opensid, routes_wordpress
from .httpd import Request, Response
from .kinds import spec_of
from .model import TLS_FAULTS, Article, RequestRecord, SimVillage
from .planted import planted_articles
from .render import HTML, Page, SiteInfo, SiteView, error_500_page, simple_page
from .services import generate_services, visitors
from .sessions import VisitCounter
from .unlisted import unlisted_rows

MAX_CACHED = 1024
Router = Callable[[SiteView, str, str], Page | None]


def _opensid(view: SiteView, path: str, query: str) -> Page | None:
    return routes_opensid.route(view, path.rstrip("/") or "/", query)


ROUTERS: dict[str, tuple[Router, Callable[[SiteView], Page]]] = {
    "opensid": (_opensid, routes_opensid.not_found),
    "wordpress": (routes_wordpress.route, routes_wordpress.not_found),
    "feed": (misc_sites.route_atom, misc_sites.not_found),
    "html": (misc_sites.route_html, misc_sites.not_found),
}


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _weak_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20]}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 evaluation: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if (inm := request.headers.get("if-none-match")) is not None:
        tags = {_opaque(t) for t in inm.split(",")}
        return "*" in tags or _opaque(etag) in tags
    ims = request.headers.get("if-modified-since")
    if ims is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since >= last_modified.replace(microsecond=0)


def _wants_gzip(request: Request) -> bool:
    for item in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            return not re.fullmatch(r"q\s*=\s*0(\.0*)?", q)
    return False


class Site:
    """Mutable state of one village site; the fleet owns one per village."""

    def __init__(self, village: SimVillage, articles: list[Article], seed: int, now: datetime):
        self.village = village
        self.spec = spec_of(village.kind)
        self.articles = articles  # newest first
        self.seed = seed
        self.now = now
        self.port: int | None = None
        self.log: list[RequestRecord] = []
        self.visitors = visitors(seed, village.code)
        self.counter = VisitCounter()  # what Sipande's visits add to the site's statistics
        self.services = generate_services(village, seed, now)
        self._cache: dict[tuple[str, str], tuple[Page, str]] = {}
        self._gzip_cache: dict[bytes, bytes] = {}
        self._planted: dict[str, list[Article]] = {}
        # Planted articles get ids well above the real ones: added ones (max + 1) never collide.
        self._plant_ids = max((a.id for a in articles), default=0) + 1000
        self.unlisted: tuple[Article, ...] = (
            unlisted_rows(village, seed, now, self._plant_ids + 5000)
            if self.spec.platform == "opensid"
            else ()
        )

    @property
    def version(self) -> str:
        """The OpenSID release ("2410"), "" for other platforms."""
        return self.spec.version if self.spec.platform == "opensid" else ""

    def bind(self, port: int | None) -> None:
        """Record the listening port (None when stopped); rendered pages are invalidated."""
        self.port = port
        self._forget()

    def add(self, article: Article) -> None:
        """Insert an article keeping newest-first order; rendered pages are invalidated."""
        self.articles.append(article)
        self.articles.sort(key=lambda a: (a.published_at, a.id), reverse=True)
        self._forget()

    def behave(self, behaviour: str) -> None:
        """Switch behaviour; pages and planted articles follow from the next request."""
        self.village = replace(self.village, behaviour=behaviour)
        self._forget()

    def planted(self) -> list[Article]:
        """Articles the current behaviour adds (spam posts, lookalike news, hostile markup)."""
        behaviour = self.village.behaviour
        if behaviour not in self._planted:
            slugs = [a.slug for a in self.articles]
            made = planted_articles(self.village, behaviour, self.now, self._plant_ids, slugs)
            self._planted[behaviour] = made
        return self._planted[behaviour]

    def all_articles(self) -> list[Article]:
        """Real and planted articles, future ones included, newest first."""
        planted = self.planted()
        if not planted:
            return self.articles
        merged = self.articles + planted
        return sorted(merged, key=lambda a: (a.published_at, a.id), reverse=True)

    def _forget(self) -> None:
        self._cache.clear()
        self._gzip_cache.clear()

    def info(self, host: str) -> SiteInfo:
        """Everything the renderers need about this site."""
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.village.behaviour in TLS_FAULTS else "http"
        base = f"{scheme}://{host}:{self.port}"
        return SiteInfo(self.village, self.spec, base, self.visitors, self.seed)

    def published(self, now: datetime) -> list[Article]:
        """Articles visible at `now`, newest first."""
        return [a for a in self.all_articles() if a.published_at <= now]

    def _page(self, path: str, query: str, host: str, now: datetime) -> tuple[Page, str]:
        key = (path, query)
        if key not in self._cache:
            info, behaviour = self.info(host), self.village.behaviour
            view = SiteView(
                info, self.published(now), self.all_articles(), now, self.services, self.unlisted
            )
            page = judol.route(behaviour, view, path, query)
            if page is None:
                route, not_found = ROUTERS[self.spec.platform]
                page = route(view, path, query) or not_found(view)
            page = corrupt.corrupt(behaviour, judol.transform(behaviour, info, path, page))
            if len(self._cache) >= MAX_CACHED:
                self._forget()
            self._cache[key] = (page, _weak_etag(page.body))
        return self._cache[key]

    def respond(self, request: Request, host: str, now: datetime) -> Response:
        """The answer of a working site of this kind (behaviour down_500 is handled here too)."""
        server = [("Date", _http_date(now)), *self.spec.server]
        behaviour = self.village.behaviour
        if behaviour == "down_500":
            body = error_500_page(self.spec).encode()
            headers = [*server, ("Content-Type", HTML), ("Vary", "Accept-Encoding")]
            return Response(500, self._encode(request, body, headers), headers)
        if fault := faults.fault_response(behaviour, request, self.info(host).base):
            return Response(fault.status, fault.body, [*server, *fault.headers])
        if behaviour == "judol_cloak_referer" and judol.from_search(request.headers):
            # P9: only visitors from a search engine are sent away; the admin never sees it.
            location = ("Location", judol.REFERER_TARGET)
            return Response(302, b"", [*server, location, ("Content-Type", HTML)])
        if request.method not in ("GET", "HEAD"):
            body = simple_page("405 Not Allowed").encode()
            headers = [*server, ("Allow", "GET, HEAD"), ("Content-Type", HTML)]
            return Response(405, body, headers)
        page, etag = self._page(request.path, request.query, host, now)
        if (
            behaviour == "judol_cloak_ua"
            and judol.is_crawler(request.headers)
            and page.status == 200
            and page.content_type.startswith("text/html")
        ):  # P8: a crawler gets spam for every HTML page; browsers the site as it was
            page = judol.crawler_page(self.info(host))
            etag = _weak_etag(page.body)
        headers = list(server)
        if page.status == 200 and page.validators:
            headers.append(("ETag", etag))
            if page.last_modified is not None:
                headers.append(("Last-Modified", _http_date(page.last_modified)))
            if _not_modified(request, etag, page.last_modified):
                return Response(304, b"", headers)
        headers += [*page.headers, ("Content-Type", page.content_type), ("Vary", "Accept-Encoding")]
        if self.spec.platform == "opensid" and page.status == 200 and "html" in page.content_type:
            article = routes_opensid.article_slug(request.path)
            headers += self.counter.count(request, request.path, article)
        return Response(page.status, self._encode(request, page.body, headers), headers)

    def _encode(self, request: Request, body: bytes, headers: list[tuple[str, str]]) -> bytes:
        """Gzip `body` when the client accepts it, adding Content-Encoding to `headers`."""
        if not body or not _wants_gzip(request):
            return body
        if "Content-Encoding" not in {name for name, _ in headers}:
            headers.append(("Content-Encoding", "gzip"))
        if body not in self._gzip_cache:
            self._gzip_cache[body] = gzip.compress(body, compresslevel=6, mtime=0)
        return self._gzip_cache[body]
