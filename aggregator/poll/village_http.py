"""The HttpGetter a connector gets for one poll of one village (see VillageHttp)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher
from aggregator.fetch.robots import RobotsCache
from aggregator.types import FetchResponse

__all__ = ["VillageHttp"]


class VillageHttp:
    """The HttpGetter a connector gets: the shared fetcher plus this village's validators.

    Responses are remembered for the length of one poll, so `auto` detection and the
    connector it picks can both look at the home page without fetching it twice.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        validators: Mapping[str, Mapping[str, str]],
        robots: RobotsCache | None = None,
        budget: tuple[float, float] | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._robots = robots
        # (deadline on the monotonic clock, one request's timeout): once two requests are
        # done (the news read), no request starts that might not end before the deadline;
        # it is deferred to the next poll (FetchError phase "deferred"), not a failure.
        self._budget = budget
        self._old = validators
        self.validators: dict[str, dict[str, str]] = {k: dict(v) for k, v in validators.items()}
        self.bytes = 0
        self.requests = 0
        self.last: FetchResponse | None = None
        self._seen: dict[tuple[str, bool], FetchResponse] = {}
        self._failed: dict[str, FetchError] = {}

    async def get(self, url: str, *, conditional: bool = True) -> FetchResponse:
        if url in self._failed:
            raise self._failed[url]
        if (url, conditional) in self._seen:
            return self._seen[(url, conditional)]
        if (url, False) in self._seen:  # a full response answers a conditional ask too
            return self._seen[(url, False)]
        if self._budget is not None and self.requests >= 2:
            deadline, request_timeout = self._budget
            if time.monotonic() + request_timeout > deadline:
                raise FetchError("deferred", "no time left in this poll", url=url)
        if self._robots is not None and not await self._robots.allowed(url):
            raise FetchError("robots", "disallowed by the site's robots.txt", url=url)
        known = self._old.get(url, {}) if conditional else {}
        resp = await self._fetcher.get(
            url, etag=known.get("etag"), last_modified=known.get("last_modified")
        )
        self.bytes += len(resp.content)
        self.requests += 1
        self.last = resp
        self._seen[(url, conditional)] = resp
        if resp.status_code == 200:  # remembered even when asked unconditionally
            fresh = {
                k: resp.headers[h]
                for k, h in (("etag", "etag"), ("last_modified", "last-modified"))
                if resp.headers.get(h)
            }
            if fresh:
                self.validators[url] = fresh
            else:
                self.validators.pop(url, None)
        return resp

    def release(self, url: str) -> None:
        """Forget the page of `url` (its body): `read` no longer returns it."""
        self._seen.pop((url, False), None)
        self._seen.pop((url, True), None)

    def seed(self, url: str, resp: FetchResponse | FetchError) -> None:
        """A response fetched for this poll by someone else (the integrity scan's browser
        view of the home page), or how that request failed: `get(url)` answers with it
        instead of asking again."""
        self.requests += 1
        if isinstance(resp, FetchError):
            self._failed[url] = resp
            return
        self.bytes += len(resp.content)
        self.last = resp
        self._seen[(url, False)] = resp

    def read(self, urls: set[str]) -> list[FetchResponse]:
        """The pages of `urls` this poll read in full (200), in the order it read them."""
        return [r for (url, _c), r in self._seen.items() if url in urls and r.status_code == 200]

    def sitemap(self) -> FetchResponse | None:
        """The site's sitemap, if this poll read one (OpenSID's first poll does)."""
        for (url, _conditional), resp in self._seen.items():
            path = urlsplit(url).path
            if path.endswith("/sitemap.xml") and path.count("/") <= 2 and resp.status_code == 200:
                return resp
        return None
