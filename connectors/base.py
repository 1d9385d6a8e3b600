"""What every connector is: an object that reads one village site through an HttpGetter.

Connectors parse with pure functions and do no I/O of their own beyond `http.get`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ParamSpec, Protocol, TypeVar

from aggregator.clock import read_recently
from aggregator.errors import FetchError
from aggregator.types import FetchResponse, Harvest, HttpGetter, ParsedItem, VillageForPoll
from connectors.normalise import html_to_text


class Connector(Protocol):
    name: str

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest: ...


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def require_ok(resp: FetchResponse) -> FetchResponse:
    """Raise FetchError(phase="http") unless the response is a 2xx or a 304."""
    if resp.not_modified or 200 <= resp.status_code < 300:
        return resp
    retry = None
    if resp.status_code in (429, 503):
        retry = retry_after_seconds(resp.headers.get("retry-after"))
    raise FetchError(
        "http",
        f"HTTP {resp.status_code}" + (f" (Retry-After {retry:.0f}s)" if retry is not None else ""),
        url=resp.url,
        status_code=resp.status_code,
        retry_after=retry,
    )


def read_at(plan: Mapping[str, str], part: str) -> datetime | None:
    """When the plan says `part` was last read in full; None: never (or unreadable)."""
    try:
        return datetime.fromisoformat(plan[part])
    except (KeyError, TypeError, ValueError):
        return None


def is_fresh(plan: Mapping[str, str], part: str, every: float, now: datetime, phase: float) -> bool:
    """Whether `part` was read in full recently enough: once every `every` seconds, at the
    village's own slot of each period (`phase`, aggregator.clock.read_recently)."""
    at = read_at(plan, part)
    return at is not None and read_recently(at, every, now, phase)


def by_url(item: ParsedItem) -> str | None:
    return item.url


async def follow_pages(
    http: HttpGetter,
    items: Sequence[ParsedItem],
    next_url: Callable[[FetchResponse | None, int], str | None],
    read: Callable[[FetchResponse], Awaitable[Sequence[ParsedItem] | None]],
    *,
    pages: int,
    key: Callable[[ParsedItem], str | None] = by_url,
) -> list[ParsedItem]:
    """Older items from a site's following pages, on a village's first poll: `next_url`
    (given the last page read, None at first, and how many were read) names the next page,
    `read` its items (None: not a list page). Stops at a failure, at a page that adds
    nothing new, or after `pages` pages."""
    found = list(items)
    seen = {key(i) for i in found}
    page: FetchResponse | None = None
    for number in range(pages):
        url = next_url(page, number)
        if url is None:
            break
        try:
            page = await http.get(url, conditional=False)
        except FetchError:
            break
        listed = await read(page)
        fresh = [i for i in listed or () if key(i) not in seen]
        if not fresh:
            break
        found += fresh
        seen.update(key(i) for i in fresh)
    return found


INLINE_BYTES = 128 * 1024
P = ParamSpec("P")
T = TypeVar("T")


async def parse_off_loop(
    content: bytes, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a parser of `content` in a thread when the document is big; a small one (most
    feeds) is parsed on the loop, where a few milliseconds delay no deadline and a thread
    hand-off per poll (a wake-up of the loop each) would cost more than it spares."""
    if len(content) > INLINE_BYTES:
        return await asyncio.to_thread(parse, *args, **kwargs)
    return parse(*args, **kwargs)


def _web_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _text(value: str | None) -> str | None:
    return (html_to_text(value) or None) if value else value


def as_text(harvest: Harvest) -> Harvest:
    """The harvest with every field a village site wrote reduced to plain text (title,
    summary, category, version) and every url an http(s) one, whatever the connector did:
    markup in a feed's category or a JSON Feed's title must not reach the store."""
    items = []
    for item in harvest.items:
        if item.known:  # stored by an earlier poll; the store leaves it out of the merge
            items.append(item)
            continue
        title = html_to_text(item.title) or ("(tanpa judul)" if item.title else "")
        items.append(
            replace(
                item,
                title=title,
                summary=html_to_text(item.summary),
                category=_text(item.category),
                url=_web_url(item.url) or "",
                thumbnail=_web_url(item.thumbnail),
            )
        )
    services = tuple(replace(s, url=_web_url(s.url)) for s in harvest.services)
    return replace(
        harvest,
        version=_text(harvest.version),
        feed_url=_web_url(harvest.feed_url),
        items=tuple(items),
        services=services,
    )
