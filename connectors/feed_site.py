"""Reading a village through its feed: find the feed (announced on the home page, or at a
usual path), fetch it conditionally, turn it into a Harvest, and page back through an Atom
feed's `rel=next` links on a first poll. Parsing itself is connectors.feed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import urljoin

from aggregator.errors import FetchError
from aggregator.types import FetchResponse, Harvest, HttpGetter, ParsedItem, VillageForPoll
from connectors.base import follow_pages, parse_off_loop, require_ok
from connectors.feed import (
    FALLBACK_PATHS,
    discover_feeds,
    feed_state,
    looks_like_feed,
    read_feed,
    reread_feed,
)
from connectors.normalise import normalise_url, unescape_text


async def first_feed(
    http: HttpGetter, candidates: Iterable[str], errors: list[str] | None = None
) -> tuple[str, FetchResponse] | None:
    """The first candidate url that answers with a feed (or with 304 Not Modified). A request
    that fails raises, unless `errors` is given: then it is noted there and the next is tried."""
    for url in candidates:
        try:
            resp = await http.get(url)
        except FetchError as e:
            if errors is None:
                raise
            errors.append(f"{url}: {e.phase}: {e.message}")
            continue
        if resp.not_modified or (200 <= resp.status_code < 300 and looks_like_feed(resp.content)):
            return url, resp
    return None


async def harvest_feed(
    resp: FetchResponse,
    feed_url: str,
    *,
    platform: str = "feed",
    version: str | None = None,
    notes: Sequence[str] = (),
    state: Mapping[str, str] | None = None,
) -> Harvest:
    """The harvest of one fetched feed; `platform`/`version` unless the feed names its own.
    `state` is what the last poll remembered (`feed_state`): an identical body counts as
    not modified, and entries read before are not normalised again."""
    reread = None
    if not resp.not_modified:
        # A big document is parsed off the event loop (see parse_off_loop).
        reread = await parse_off_loop(
            resp.content, reread_feed, resp.content, resp.url, state or {}
        )
    if reread is None:
        return Harvest(platform=platform, feed_url=feed_url, not_modified=True, notes=tuple(notes))
    feed, feed_notes, remember = reread
    return Harvest(
        platform=feed.platform or platform,
        version=feed.version or version,
        feed_url=feed_url,
        items=feed.items,
        notes=(*notes, *feed_notes),
        feed_state=remember,
    )


_NEXT_LINK = re.compile(rb"<(?:atom:)?link\b[^>]*\brel=[\"']next[\"'][^>]*>", re.IGNORECASE)
_HREF = re.compile(rb"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
BACKFILL_PAGES = 20


def next_page_url(content: bytes, base_url: str) -> str | None:
    """The RFC 5005 `<link rel="next">` of a paged feed (Blogger, many CMSs), if any."""
    tag = _NEXT_LINK.search(content)
    href = _HREF.search(tag.group(0)) if tag else None
    if href is None:
        return None
    return normalise_url(unescape_text(href.group(1).decode("utf-8", "replace")), base_url) or None


async def backfill_pages(http: HttpGetter, first: FetchResponse, harvest: Harvest) -> Harvest:
    """Older items from a paged feed's `next` links, on a village's first poll only."""

    def next_url(page: FetchResponse | None, _read: int) -> str | None:
        page = page or first
        return next_page_url(page.content, page.url)

    items = await follow_pages(
        http, harvest.items, next_url, read_feed_page, pages=BACKFILL_PAGES, key=by_url_or_guid
    )
    return replace(harvest, items=tuple(items))


def by_url_or_guid(item: ParsedItem) -> str | None:
    return item.url or item.guid


async def read_feed_page(resp: FetchResponse) -> tuple[ParsedItem, ...] | None:
    """The items of a further feed page, or None if it is not one."""
    if resp.status_code != 200 or not looks_like_feed(resp.content):
        return None
    page, _ = await parse_off_loop(resp.content, read_feed, resp.content, resp.url)
    return page.items


class FeedConnector:
    """Reads a village through its RSS/Atom/JSON feed, discovering it from the home page once."""

    name = "feed"

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest:
        if village.feed_url:
            resp = require_ok(await http.get(village.feed_url))
            if resp.not_modified or looks_like_feed(resp.content):
                state = feed_state(village, village.feed_url)
                return await harvest_feed(resp, village.feed_url, state=state)
            # The remembered feed moved or died: fall through and discover it again.
        home = require_ok(await http.get(village.url, conditional=False))
        if looks_like_feed(home.content):
            found: tuple[str, FetchResponse] | None = (village.url, home)
        else:
            candidates = discover_feeds(home.content, home.url)
            candidates += [
                u for p in FALLBACK_PATHS if (u := urljoin(home.url, p)) not in candidates
            ]
            found = await first_feed(http, candidates)
        if found is None:
            return Harvest(platform="html", notes=("no RSS/Atom feed found on the site",))
        harvest = await harvest_feed(found[1], found[0], state={})
        if village.feed_url is None and not harvest.not_modified:
            harvest = await backfill_pages(http, found[1], harvest)
        return harvest
