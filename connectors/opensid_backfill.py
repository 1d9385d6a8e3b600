"""The first poll's backfill of an OpenSID site: articles older than the feed's 50, from
internal_api/arsip (JSON, 2508 and later) or from the sitemap, each sitemap-only article
confirmed by its own page (the sitemap lists drafts and static pages too: see
connectors.opensid_confirm and docs/design.md)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from aggregator.errors import ParseError
from aggregator.types import SCAN_ITEM_PAGES, FetchResponse, HttpGetter, ParsedItem
from connectors.normalise import content_hash
from connectors.opensid_confirm import DRAFT, NEWS, STATIC, menu_pages, verdict
from connectors.opensid_parse import parse_arsip, parse_sitemap
from connectors.opensid_plan import ARSIP_PAGE_SIZE

MAX_BACKFILL = 500
MAX_CONFIRM = 60  # sitemap-only articles confirmed by their page on a first poll
BACKFILL_SECONDS = 15.0  # backfill is a bonus: never let it eat the poll's deadline


class Poll(Protocol):
    """What the backfill uses of the poll it is part of (connectors.opensid._Poll)."""

    http: HttpGetter
    home: FetchResponse | None
    base: str

    async def get(self, kind: str, url: str) -> FetchResponse | None: ...

    def note(self, text: str) -> None: ...

    def url(self, path: str) -> str: ...

    def published(self, kind: str, resp: FetchResponse, *, service: bool = True) -> bool: ...


async def backfill(poll: Poll, api: bool, known: set[str]) -> tuple[ParsedItem, ...]:
    """Older articles than the feed's 50, on the first poll only, within a time budget."""
    found: list[ParsedItem] = []
    source = "internal_api/arsip" if api else "sitemap.xml"
    try:
        async with asyncio.timeout(BACKFILL_SECONDS):
            if api:
                await _from_arsip(poll, known, found)
            else:
                await _from_sitemap(poll, known, found)
    except TimeoutError:
        poll.note(f"backfill: {source} stopped after {BACKFILL_SECONDS:g}s")
    if found:
        plural = "s" if len(found) > 1 else ""
        extra = "" if api else ", each confirmed by its page"
        poll.note(f"backfill: {len(found)} older article{plural} from {source}{extra}")
    return tuple(found)


async def _from_arsip(poll: Poll, known: set[str], found: list[ParsedItem]) -> None:
    previous: list[str] = []
    for number in range(1, -(-MAX_BACKFILL // ARSIP_PAGE_SIZE) + 1):
        path = f"internal_api/arsip?page[size]={ARSIP_PAGE_SIZE}&page[number]={number}"
        resp = await poll.get("arsip", poll.url(f"{path}&sort=-tgl_upload"))
        if resp is None or not poll.published("arsip", resp, service=False):
            return
        try:
            page = parse_arsip(resp.content, poll.base)
        except ParseError as e:
            poll.note(f"arsip: {e}")
            return
        urls = [i.url for i in page.items]
        if urls and urls == previous:  # a proxy or old build ignoring page[number]
            poll.note(f"arsip: page {number} repeats page {number - 1} (pagination ignored)")
            return
        previous = urls
        for item in page.items:
            if item.url not in known and len(found) < MAX_BACKFILL:
                known.add(item.url)
                found.append(item)
        if page.rows == 0 or number >= (page.total_pages or number):
            return


async def _from_sitemap(poll: Poll, known: set[str], found: list[ParsedItem]) -> None:
    """Older articles from the sitemap, each confirmed by its own page (the sitemap
    lists drafts and static pages too: see connectors.opensid_confirm)."""
    resp = await poll.get("sitemap", poll.url("sitemap.xml"))
    if resp is None or not poll.published("sitemap", resp, service=False):
        return
    # The sitemap lists every article row, future-dated ones too.
    now = datetime.now(UTC)
    fresh = [
        i
        for i in parse_sitemap(resp.content, known)
        if i.published_at is None or i.published_at <= now
    ]
    fresh.sort(key=lambda i: i.published_at or now, reverse=True)
    home = poll.home
    assert home is not None  # a first poll (the only one that backfills) reads it
    menu = menu_pages(home.content, home.url)
    left_out: dict[str, int] = {}
    kept = 0  # confirmed news pages left in the poll's memo for the scan beside it
    for item in fresh[:MAX_CONFIRM]:
        page = await poll.get("artikel", item.url)
        if page is None:
            break
        if page.status_code == 404:
            left_out[DRAFT] = left_out.get(DRAFT, 0) + 1
            continue
        if not 200 <= page.status_code < 300:
            continue
        kind, title, body = verdict(page.content, item.url, menu)
        if kind == NEWS and kept < SCAN_ITEM_PAGES:
            kept += 1
        else:  # ~60 kB a page: a back catalogue held by 64 polls at once adds up
            poll.http.release(item.url)
        if kind != NEWS:
            left_out[kind] = left_out.get(kind, 0) + 1
            continue
        title = title or item.title
        digest = content_hash(title, item.url)
        # Its body goes to the post-body integrity check like a feed's content:encoded.
        found.append(replace(item, title=title, source="page", content_hash=digest, body=body))
    if left_out:
        words = {DRAFT: "unpublished", STATIC: "static"}
        poll.note(
            "backfill: left out "
            + ", ".join(f"{n} {words[k]} page{'s' if n > 1 else ''}" for k, n in left_out.items())
            + " listed by the sitemap"
        )
