"""The first poll's backfill of an OpenSID site: articles older than the feed's 50, from
internal_api/arsip (JSON, 2508 and later) or from the sitemap, whose articles (drafts and
static pages too: see connectors.opensid_confirm) are settled by the archive listing,
20 a page (connectors.opensid_arsip), or confirmed one by one by their own page
(docs/design.md "Only published news counts")."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Protocol

from aggregator.errors import ParseError
from aggregator.types import SCAN_ITEM_PAGES, FetchResponse, HttpGetter, ParsedItem
from connectors.normalise import content_hash
from connectors.opensid_arsip import PER_PAGE, page_path, parse_listing
from connectors.opensid_confirm import DRAFT, NEWS, STATIC, Menu, in_menu, menu_pages, verdict
from connectors.opensid_parse import article_day, parse_arsip, parse_sitemap
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
    listed = sum(1 for i in found if i.source == "arsip")
    parts = [(listed, "the archive listing (index.php/arsip)")] if listed else []
    if rest := len(found) - listed:
        parts.append((rest, source if api else f"{source}, each confirmed by its page"))
    for n, where in parts:
        poll.note(f"backfill: {n} older article{'s' if n > 1 else ''} from {where}")
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
    """Older articles from the sitemap (it lists drafts and static pages too: see
    connectors.opensid_confirm): settled a page of 20 at a time by the archive listing when
    there are more than the integrity scan reads anyway, the rest confirmed by their page."""
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
    settled: set[str] = set()
    if len(fresh) > SCAN_ITEM_PAGES:  # fewer: their pages are the scan's item pages
        settled = await _from_listing(poll, known, found, fresh, menu, left_out)
    await _confirm(poll, [i for i in fresh if i.url not in settled], found, menu, left_out)
    if left_out:
        words = {DRAFT: "unpublished", STATIC: "static"}
        poll.note(
            "backfill: left out "
            + ", ".join(f"{n} {words[k]} page{'s' if n > 1 else ''}" for k, n in left_out.items())
            + " listed by the sitemap"
        )


def _day(item: ParsedItem) -> date | None:
    """An article's day: its dated url's, else its listed date's."""
    day = article_day(item.url or "")
    if day is None and item.published_at is not None:
        day = item.published_at.date()
    return day


async def _from_listing(
    poll: Poll,
    known: set[str],
    found: list[ParsedItem],
    fresh: list[ParsedItem],
    menu: Menu,
    left_out: dict[str, int],
) -> set[str]:
    """The sitemap-only articles `fresh` (newest first) the archive listing settles: listed
    ones are news, or static pages by the menu; unlisted ones within the days read are
    drafts. Returns their urls; the others are left to be confirmed by their page."""
    days = [d for i in fresh if (d := _day(i)) is not None]
    if not days:
        return set()
    newest, oldest = max(days), min(days)
    # Newest first, and every feed article is listed: the feed's articles of later days
    # come before the newest sitemap-only one, so the pages before theirs are skipped.
    ahead = sum(1 for u in known if (d := article_day(u)) is not None and d > newest)
    first = number = ahead // PER_PAGE + 1
    listed: set[str] = set()
    low = high = None  # the days read
    end, previous = False, [""]
    while len(found) < MAX_BACKFILL:
        url = poll.url(page_path(number))
        page = await poll.get("arsip", url)
        if page is None or not 200 <= page.status_code < 300:
            break
        listing = parse_listing(page.content, poll.base)
        poll.http.release(url)
        urls = [i.url for i in listing.items]
        if not urls or urls == previous:  # another theme, or a site ignoring the page number
            break
        previous = urls
        for item in listing.items:
            day = _day(item)
            if day is not None:
                low, high = min(low or day, day), max(high or day, day)
            listed.add(item.url)
            if item.url in known:
                continue
            known.add(item.url)
            if in_menu(menu, item.url, item.title):
                left_out[STATIC] = left_out.get(STATIC, 0) + 1
            elif len(found) < MAX_BACKFILL:
                found.append(item)
        if number >= (listing.last_page or number):
            end = True
            break
        if low is not None and oldest > low:  # every sitemap-only day has been read
            break
        number += 1
    settled = {i.url for i in fresh if i.url in listed}
    if low is None or high is None:
        return settled
    for item in fresh:
        day = _day(item)
        if item.url in settled or day is None:
            continue
        # A day at either edge of the pages read may go on in the page beyond it.
        if (end or day > low) and (first == 1 or day < high):
            settled.add(item.url)
            left_out[DRAFT] = left_out.get(DRAFT, 0) + 1
    return settled


async def _confirm(
    poll: Poll,
    fresh: list[ParsedItem],
    found: list[ParsedItem],
    menu: Menu,
    left_out: dict[str, int],
) -> None:
    """Sitemap-only articles confirmed one by one by their own page."""
    kept = 0  # confirmed news pages left in the poll's memo for the scan beside it
    for item in fresh[:MAX_CONFIRM]:
        if len(found) >= MAX_BACKFILL:
            break
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
