"""WordPress connector: detection and REST parsing on saved answers (golden pairs), and
`collect` against a small WordPress emulation on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from aggregator.errors import FetchError, ParseError
from aggregator.fetch.client import Fetcher
from aggregator.poll.village_http import VillageHttp
from aggregator.settings import Settings
from aggregator.types import FetchResponse, Harvest, VillageForPoll
from connectors.wordpress import (
    PER_PAGE,
    Detection,
    WordPressConnector,
    api_root,
    detect,
    extract_json,
    finish_items,
    parse_names,
    parse_posts,
    rest_root_of,
    route_url,
)
from tests.conftest import RawServer, response

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
FEEDS = Path(__file__).parent / "fixtures" / "feed"
SITE = "https://purbayasa.example.id"
LOOP = Settings(allow_private_addresses=True)


def _page(content: bytes, headers: dict[str, str] | None = None) -> FetchResponse:
    return FetchResponse(SITE + "/", 200, headers or {"content-type": "text/html"}, content)


# -- pure parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["posts", "posts_php_notice"])
def test_golden_rest_posts(case: str) -> None:
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    payload, prefix = extract_json((FIXTURES / f"{case}.json").read_bytes())
    assert len(prefix) == expected["prefix_chars"]
    posts = parse_posts(payload, expected["base_url"])
    categories = parse_names(extract_json((FIXTURES / "categories.json").read_bytes())[0], "name")
    media = parse_names(extract_json((FIXTURES / "media.json").read_bytes())[0], "source_url")
    got = []
    for post, item in zip(posts, finish_items(posts, categories, media), strict=True):
        data = dataclasses.asdict(item)
        assert len(data.pop("content_hash")) == 64
        assert data.pop("spam") is False  # flagged later, by the integrity watch
        data.pop("fingerprint")  # a digest of the raw entry, checked in test_feed.py
        assert data.pop("known") is False
        assert data.pop("source") == "rest"  # the REST API lists published posts only
        assert data.pop("body") == ""  # the fixture was recorded without `content`
        data["published_at"] = item.published_at.isoformat() if item.published_at else None
        data["id"] = post.id
        data["modified_at"] = post.modified_at.isoformat() if post.modified_at else None
        got.append(data)
    assert got == expected["items"]


def test_json_after_injected_text_is_found() -> None:
    error = b'\xef\xbb\xbf {"code": "rest_forbidden", "data": {"status": 403}} '
    assert extract_json(error) == ({"code": "rest_forbidden", "data": {"status": 403}}, "")
    assert extract_json(b'{"a": [1]}', accept=lambda v: True) == ({"a": [1]}, "")
    # A script's array before the payload, and a notice after it: the longest value wins.
    script = '<script>var s = [1, 2]; var o = {"baseUrl": "https://s.w.org/images/core/"};</script>'
    body = f'{script}[{{"id": 7}}, {{"id": 8}}]<b>Notice</b>: x[0]'.encode()
    value, prefix = extract_json(body)
    assert value == [{"id": 7}, {"id": 8}] and prefix == script
    assert extract_json(f"{script}[]".encode()) == ([], script)  # no posts is an answer too
    with pytest.raises(ParseError):
        extract_json(b"<html><body>Forbidden {oops}</body></html>")
    with pytest.raises(ParseError):
        extract_json(b"")


def test_posts_that_are_not_posts_are_skipped_and_a_non_list_is_an_error() -> None:
    posts = parse_posts([{"id": True}, {"id": 3, "title": 5, "categories": "x"}, 7], SITE)
    assert [(p.id, p.item.title, p.category_ids) for p in posts] == [(3, "(tanpa judul)", ())]
    with pytest.raises(ParseError):
        parse_posts({"code": "rest_no_route"}, SITE)
    twice = finish_items(posts + posts, {}, {})
    assert len(twice) == 1  # a post shifted across pages while paging is counted once


def test_detect_reads_generator_theme_and_core_asset_versions() -> None:
    home = (FIXTURES / "home.html").read_bytes()
    assert detect(_page(home)) == Detection("wordpress", "6.6.2", "desaku")
    # Generator meta and api.w.org link removed by a hardening plugin: assets still tell.
    hardened = (FIXTURES / "home_hardened.html").read_bytes()
    assert b"WordPress 6" not in hardened and b"api.w.org/" not in hardened
    assert detect(_page(hardened)) == Detection("wordpress", "6.6.2", "desaku")
    bare = b'<html><img src="/wp-content/uploads/logo.png"><script src="/a.js?ver=3.7.1">'
    assert detect(_page(bare)) == Detection("wordpress", None, None)
    link = {"link": f'<{SITE}/wp-json/>; rel="https://api.w.org/"'}
    assert detect(_page(b"<html></html>", link)) == Detection("wordpress", None, None)
    opensid = (
        b'<html><link href="/assets/css/opensid.css"><a href="/index.php/artikel/1">x</a>'
        b'<img src="https://blog.example.com/wp-content/uploads/2024/foto.jpg">'
    )
    assert detect(_page(opensid)) is None  # another site's WordPress image is not WordPress


def test_api_root_from_link_header_or_head() -> None:
    both = (
        f'<{SITE}/wp-json/wp/v2/pages/2>; rel="alternate"; type="application/json", '
        f'<{SITE}/?rest_route=/>; rel="https://api.w.org/"'
    )
    assert api_root(_page(b"", {"link": both})) == f"{SITE}/?rest_route=/"
    home = (FIXTURES / "home.html").read_bytes()
    assert api_root(_page(home)) == f"{SITE}/wp-json/"
    assert api_root(_page(b"<html><head></head></html>")) is None


def test_route_urls_in_both_forms_and_back() -> None:
    pretty = route_url(f"{SITE}/wp-json/", "/wp/v2/posts", {"_fields": "id,link", "page": "2"})
    assert pretty == f"{SITE}/wp-json/wp/v2/posts?_fields=id,link&page=2"
    query = route_url(f"{SITE}/?rest_route=/", "/wp/v2/posts", {"_fields": "id,link"})
    assert query == f"{SITE}/?rest_route=/wp/v2/posts&_fields=id,link"
    assert rest_root_of(route_url(f"{SITE}/desa/wp-json/", "/wp/v2/posts")) == (
        f"{SITE}/desa/wp-json/"
    )
    assert rest_root_of(f"{SITE}/?rest_route=/wp/v2/posts") == f"{SITE}/?rest_route=/"
    assert rest_root_of(f"{SITE}/feed/") is None and rest_root_of(None) is None


# -- collect against a WordPress emulation on loopback --------------------------------------


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    kind = {"content-type": "application/json; charset=UTF-8"}
    return response(status, body, kind | (headers or {}))


@dataclasses.dataclass
class Site:
    """What the emulated WordPress serves. rest: "pretty" (both REST forms work), "query"
    (no pretty permalinks: /wp-json/ is a 404 page), "forbidden" (a plugin answers 401),
    "html" (a security plugin answers REST urls with the home page)."""

    rest: str = "pretty"
    posts: bytes = (FIXTURES / "posts.json").read_bytes()
    total_pages: int = 1  # what X-WP-TotalPages claims
    pages_served: int = 99  # past this, page numbers get 400 rest_post_invalid_page_number
    broken: tuple[str, ...] = ()  # routes answering 500
    etag: str | None = None
    announce: bool = True  # False: a cache dropped the `Link: rel="https://api.w.org/"` header

    def home(self, base: str) -> bytes:
        return (FIXTURES / "home.html").read_bytes().replace(SITE.encode(), base.encode())

    def rest_answer(self, route: str, q: dict[str, str], headers: dict[str, str]) -> bytes:
        name = route.rsplit("/", 1)[-1]
        if name in self.broken:
            return response(500, b"<h1>Error</h1>")
        if name == "categories":
            return _json(200, (FIXTURES / "categories.json").read_bytes())
        if name == "media":
            return _json(200, (FIXTURES / "media.json").read_bytes())
        if name == "pages":
            return _json(200, [{"id": 2}], {"x-wp-total": "7", "x-wp-totalpages": "7"})
        if name != "posts":
            return _json(404, {"code": "rest_no_route"})
        if self.etag and headers.get("if-none-match") == self.etag:
            return response(304)
        page = int(q.get("page", "1"))
        if page > min(self.total_pages, self.pages_served):
            return _json(400, {"code": "rest_post_invalid_page_number"})
        body: Any = self.posts
        if page > 1:
            body = [{"id": 1000 + page, "link": f"/p/{page}/", "title": {"rendered": f"P{page}"}}]
        extra = {  # as if the emulated later pages were full
            "x-wp-total": str(3 + PER_PAGE * (self.total_pages - 1)),
            "x-wp-totalpages": str(self.total_pages),
        }
        return _json(200, body, extra | ({"etag": self.etag} if self.etag else {}))

    async def __call__(self, method: str, path: str, headers: dict[str, str], w: Any) -> None:
        parts = urlsplit(path)
        q = dict(parse_qsl(parts.query))
        base = f"http://{headers['host']}"
        html = {"content-type": "text/html; charset=UTF-8"}
        root = f"{base}/?rest_route=/" if self.rest == "query" else f"{base}/wp-json/"
        link = {"link": f'<{root}>; rel="https://api.w.org/"'} if self.announce else {}
        route = q.get("rest_route")
        if route is None and parts.path.startswith("/wp-json/"):
            route = parts.path[len("/wp-json") :]
            if self.rest == "query":
                w.write(response(404, b"<html>Halaman tidak ditemukan</html>", html))
                return
        if route is not None and self.rest == "forbidden":
            w.write(_json(401, {"code": "rest_cannot_access", "data": {"status": 401}}))
        elif route is not None and self.rest == "html":
            w.write(response(200, self.home(base), html))
        elif route is not None:
            w.write(self.rest_answer(route, q, headers))
        elif parts.path == "/feed/":
            feed = (FEEDS / "wordpress.xml").read_bytes()
            w.write(response(200, feed, {"content-type": "application/rss+xml; charset=UTF-8"}))
        elif parts.path == "/":
            home = self.home(base)
            if not self.announce:
                home = home.replace(b'rel="https://api.w.org/"', b'rel="x"')
            w.write(response(200, home, html | link))
        else:
            w.write(response(404, b"<html>404</html>", html))


async def _collect(
    srv: RawServer, fetcher: Fetcher, feed_url: str | None = None, validators: Any = None
) -> tuple[Harvest, list[str], VillageHttp]:
    """One poll of the emulated site: the harvest, the paths it asked for, its HttpGetter."""
    village = VillageForPoll("33.03.01.2001", srv.url + "/", "wordpress", feed_url=feed_url)
    http = VillageHttp(fetcher, validators or {})
    before = len(srv.requests)
    harvest = await WordPressConnector().collect(village, http)
    return harvest, [path for _, path, _ in srv.requests[before:]], http


def _run(site: Site, body: Callable[[RawServer, Fetcher], Awaitable[None]]) -> None:
    async def main() -> None:
        async with RawServer(site) as srv, Fetcher(LOOP) as fetcher:
            await body(srv, fetcher)

    asyncio.run(main())


def _routes(paths: list[str]) -> list[str]:
    """Requested paths as `route page=n` for REST requests, plain paths otherwise."""
    out = []
    for path in paths:
        parts = urlsplit(path)
        q = dict(parse_qsl(parts.query))
        route = q.get("rest_route") or parts.path.removeprefix("/wp-json")
        out.append(route + (f" page={q['page']}" if "page" in q else ""))
    return out


POLL_ROUTES = ["/wp/v2/posts", "/wp/v2/categories", "/wp/v2/media", "/wp/v2/pages"]


def test_first_poll_backfills_then_a_later_poll_reads_recent_changes_only() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        first, paths, _ = await _collect(srv, fetcher)
        assert _routes(paths) == [
            "/",
            "/wp/v2/posts",
            "/wp/v2/posts page=2",
            "/wp/v2/posts page=3",
            "/wp/v2/categories",
            "/wp/v2/media",
            "/wp/v2/pages",
        ]
        assert "orderby" not in paths[1] and "_fields=id,date_gmt," in paths[1]
        assert (first.platform, first.version, first.notes) == ("wordpress", "6.6.2", ())
        assert first.feed_url == f"{srv.url}/wp-json/wp/v2/posts"
        assert dict(first.metrics) == {"articles_total": 103.0, "pages_total": 7.0}
        assert [i.title for i in first.items][-2:] == ["P2", "P3"] and len(first.items) == 5
        assert [i.category for i in first.items[:3]] == [
            "Kegiatan",
            "Pengumuman & Informasi",
            None,
        ]
        assert first.items[0].thumbnail == f"{SITE}/wp-content/uploads/2026/11/gula.jpg"
        assert first.items[0].published_at is not None
        assert first.items[0].published_at.isoformat() == "2026-11-02T03:10:22+00:00"

        later, paths, _ = await _collect(srv, fetcher, first.feed_url)
        assert _routes(paths) == POLL_ROUTES  # no home page, one page of posts
        assert "orderby=modified&order=desc" in paths[0]
        assert len(later.items) == 3 and later.version is None  # the store keeps the version
        assert later.feed_url == first.feed_url and later.notes == ()

    _run(Site(total_pages=3), body)


def test_backfill_is_capped_and_noted() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        harvest, paths, _ = await _collect(srv, fetcher)
        assert _routes(paths).count("/wp/v2/posts page=10") == 1
        assert "/wp/v2/posts page=11" not in _routes(paths)
        assert len(harvest.items) == 3 + 9
        assert harvest.notes == ("backfill stopped at 500 of 1453 posts",)

    _run(Site(total_pages=30), body)


def test_php_notice_before_the_json_is_parsed_through_and_noted() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        harvest, _, _ = await _collect(srv, fetcher)
        assert len(harvest.items) == 3 and harvest.items[0].category == "Kegiatan"
        (note,) = harvest.notes
        assert note.startswith("json_prefix_garbage: 269 characters before the JSON of posts: ")
        assert "Undefined array key" in note and "<b>" not in note

    _run(Site(posts=(FIXTURES / "posts_php_notice.json").read_bytes()), body)


def test_without_pretty_permalinks_the_rest_route_form_is_used() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        harvest, paths, _ = await _collect(srv, fetcher)
        assert harvest.feed_url == f"{srv.url}/?rest_route=/wp/v2/posts"
        assert paths[1].startswith("/wp-json/wp/v2/posts?")  # guessed first: a 404 page
        assert paths[2].startswith("/?rest_route=/wp/v2/posts&_fields=")
        assert len(harvest.items) == 3 and dict(harvest.metrics)["pages_total"] == 7.0

        later, paths, _ = await _collect(srv, fetcher, harvest.feed_url)
        assert _routes(paths) == POLL_ROUTES and len(later.items) == 3

    _run(Site(rest="query", announce=False), body)


@pytest.mark.parametrize(
    ("rest", "reason", "asked"),
    [
        ("forbidden", "HTTP 401 rest_cannot_access", 1),  # ?rest_route= is blocked the same way
        ("html", "HTTP 200, not JSON", 2),
    ],
)
def test_rest_disabled_falls_back_to_the_feed(rest: str, reason: str, asked: int) -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        harvest, paths, _ = await _collect(srv, fetcher)
        rest_paths = [p for p in paths if "wp-json" in p or "rest_route" in p]
        assert len(rest_paths) == asked
        # The first poll also asks for an older page (?paged=2); the same posts end the backfill.
        assert paths[-2:] == ["/feed/", "/feed/?paged=2"]
        assert harvest.feed_url == f"{srv.url}/feed/"
        assert (harvest.platform, harvest.version) == ("wordpress", "6.6.2")
        assert harvest.notes == (f"REST API unavailable ({reason}); read the RSS feed",)
        assert [i.guid for i in harvest.items] == ["https://purbayasa.example.id/?p=412"]
        assert not harvest.metrics

    _run(Site(rest=rest), body)


def test_a_failing_secondary_endpoint_is_a_note_not_a_failure() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        harvest, paths, _ = await _collect(srv, fetcher)
        assert "/wp/v2/posts page=3" not in _routes(paths)  # page 2 answered 400: stop there
        assert len(harvest.items) == 3
        assert [i.category for i in harvest.items] == [None, None, None]
        assert harvest.items[0].thumbnail is not None
        assert harvest.notes == ("categories: HTTP 500", "pages: HTTP 500")
        assert dict(harvest.metrics) == {"articles_total": 103.0}

    _run(Site(total_pages=3, pages_served=1, broken=("categories", "pages")), body)


def test_unchanged_posts_answer_304_and_nothing_else_is_asked() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        first, _, http = await _collect(srv, fetcher)
        # The backfill url differs from the later ones: validators apply from the third poll.
        second, _, http = await _collect(srv, fetcher, first.feed_url, http.validators)
        assert len(second.items) == 3 and not second.not_modified
        third, paths, _ = await _collect(srv, fetcher, first.feed_url, http.validators)
        assert len(paths) == 1 and third.not_modified and third.items == ()
        assert third.feed_url == first.feed_url

    _run(Site(etag='"v1"'), body)


def test_a_site_that_is_not_wordpress_at_all_is_no_failure() -> None:
    async def serve(method: str, path: str, headers: dict[str, str], w: Any) -> None:
        page = b"<html><body><h1>Desa</h1></body></html>" if path == "/" else b"<p>404</p>"
        w.write(response(200 if path == "/" else 404, page, {"content-type": "text/html"}))

    async def main() -> None:
        async with RawServer(serve) as srv, Fetcher(LOOP) as fetcher:
            harvest, paths, _ = await _collect(srv, fetcher)
            assert harvest.platform == "html" and harvest.items == ()
            assert harvest.notes == (
                "REST API unavailable (HTTP 404, not JSON); read the RSS feed",
                "no feed either",
            )
            assert len(paths) == 5  # home, /wp-json/, ?rest_route=, /feed/, ?feed=rss2

    asyncio.run(main())


def test_a_dead_site_fails_the_poll() -> None:
    async def body(srv: RawServer, fetcher: Fetcher) -> None:
        dead = VillageForPoll("1", "http://127.0.0.1:9/", "wordpress")
        with pytest.raises(FetchError):
            await WordPressConnector().collect(dead, VillageHttp(fetcher, {}))

    _run(Site(), body)
