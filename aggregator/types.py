"""Data handed between steps (fetch → connector → decide → store), as frozen dataclasses.

Connectors import only this module and `aggregator.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

# Western Indonesia Time, UTC+7 all year (a fixed offset needs no tz database): the zone a
# village site means when it gives none, and the day an officer means (aggregator.clock).
WIB = timezone(timedelta(hours=7), "WIB")


@dataclass(frozen=True)
class FetchResponse:
    """What fetch returned for one GET, after redirects and decompression."""

    url: str  # final url after redirects
    status_code: int
    headers: Mapping[str, str]  # lower-cased names
    content: bytes
    not_modified: bool = False
    elapsed_ms: int = 0

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


# Item pages an integrity scan reads (integrity.watch); a first poll's confirmed article
# pages serve as those, so that many of them are kept for the scan beside the poll.
SCAN_ITEM_PAGES = 2


class HttpGetter(Protocol):
    """The only I/O a connector may do: ask for a url (through the shared fetcher)."""

    async def get(self, url: str, *, conditional: bool = True) -> FetchResponse: ...

    def release(self, url: str) -> None:
        """The connector is done with this page and nothing beside the poll needs it: its
        body need not be held until the poll ends (a first poll may confirm 60 pages)."""


@dataclass(frozen=True)
class ParsedItem:
    """One news item as a connector understood it; text fields are already sanitised."""

    title: str
    url: str
    guid: str | None
    published_at: datetime | None  # timezone-aware
    summary: str = ""
    category: str | None = None
    thumbnail: str | None = None
    content_hash: str = ""
    spam: bool = False  # gambling spam injected into the site: stored, flagged, never activity
    # Digest of the entry as the site sent it. `known`: the same bytes were read and stored
    # by this village's last successful poll, so the item was not normalised again and the
    # store leaves its row alone (only title, guid, date and the url as the feed gave it).
    fingerprint: str = ""
    known: bool = False
    # How the item is known to be published news: "feed", "rest" (WordPress REST), "api"
    # (OpenSID's internal_api), "arsip" (OpenSID's archive page) or "html" (an article list).
    source: str = "feed"
    # The item's body as the site sent it (raw HTML: REST `content.rendered`, a feed's
    # `content:encoded` or description, a fetched article page), cut to BODY_LIMIT, for the
    # integrity check of post bodies only. Never sanitised, never stored: the poller checks
    # it and drops it before the harvest goes to the writer.
    body: str = ""


BODY_LIMIT = 48_000  # characters of a body kept for its integrity check: 40k head, 8k tail
_BODY_TAIL = 8_000


def bounded_body(raw: str) -> str:
    """A body cut to BODY_LIMIT characters, keeping its start and its end: injected link
    blocks are usually appended at the end of a post, and long posts exist."""
    if len(raw) <= BODY_LIMIT:
        return raw
    return raw[: BODY_LIMIT - _BODY_TAIL] + "\n" + raw[-_BODY_TAIL:]


@dataclass(frozen=True)
class ServiceObservation:
    kind: str
    available: bool
    count: int | None = None
    last_date: datetime | None = None
    url: str | None = None
    error: str | None = None  # the page is published but answered an error ("HTTP 500")


@dataclass(frozen=True)
class Harvest:
    """Everything one poll learned about a village site."""

    platform: str
    version: str | None = None
    feed_url: str | None = None
    items: tuple[ParsedItem, ...] = ()
    services: tuple[ServiceObservation, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    not_modified: bool = False  # nothing changed since the last poll (HTTP 304)
    notes: tuple[str, ...] = ()  # worth showing on the check even though it succeeded
    # What to remember about the feed for the next poll (kept with its validators):
    # "body" digest and the entries' "items" fingerprints; empty = keep what was remembered.
    feed_state: Mapping[str, str] = field(default_factory=dict)
    # What the village's plan should remember from this poll (see VillageForPoll.plan):
    # the parts read in full, at this poll's time, and facts such as the home page's menu.
    plan: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VillageForPoll:
    """A due village, as the dispatcher hands it to the poller."""

    code: str
    url: str
    platform: str
    feed_url: str | None = None
    validators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    consecutive_ok: int = 0
    posts_30d: int = 0  # legitimate posts in the last 30 days, for adaptive polling
    detected_platform: str | None = None  # what `auto` found last time (remembered)
    # Scraping rules for `html` sites, from the config's `html_rules` (HTML_RULE_KEYS).
    rules: Mapping[str, str] | None = None
    integrity_checked_at: datetime | None = None
    last_duration_ms: int | None = None  # of its newest check: slow sites are started first
    cookies: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # host → name → value
    open_post_finding: str | None = None  # the post url of its open post-body finding
    # The village's plan: when each part of a poll was last read in full (ISO times by part:
    # "home", "svc:lapak"...) and what those reads taught. Empty: read everything (a first
    # poll, a failing village, a platform change).
    plan: Mapping[str, str] = field(default_factory=dict)
    # In its first `first_read_spread` after its first poll, before its own slot of it
    # (clock.settling): the parts it has never read wait for that slot.
    settling: bool = False


@dataclass(frozen=True)
class PollOutcome:
    """The result of polling one village: success with a harvest, or a failure as data."""

    village_code: str
    started_at: datetime
    duration_ms: int
    ok: bool
    phase: str | None = None
    message: str | None = None
    status_code: int | None = None
    url: str | None = None
    bytes: int = 0
    harvest: Harvest | None = None
    validators: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    retry_after: float | None = None  # the site asked us to come back later (429/503)
    integrity: Any = None  # integrity.watch.IntegrityReport when a scan ran with this poll
    cookies: Mapping[str, Mapping[str, str]] | None = None  # the site's session, to keep
    posts: Any = None  # aggregator.integrity.postcheck.PostCheck: what the items' bodies showed
    plan: Mapping[str, str] | None = None  # the village's plan to keep; None: leave it


@dataclass(frozen=True)
class Decision:
    """What `decide` concluded from an outcome: the village's next schedule state."""

    next_check_at: datetime
    consecutive_failures: int
    failing_since: datetime | None
    consecutive_ok: int = 0
