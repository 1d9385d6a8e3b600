"""`platform: auto`: recognise what a village runs from its home page, every poll, and hand
over to that connector. A platform change (a village moving from WordPress to OpenSID, say)
is noticed on the next poll and noted on the check.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aggregator.types import FetchResponse, Harvest, HttpGetter, VillageForPoll
from connectors import opensid, wordpress
from connectors.base import Connector, require_ok
from connectors.feed import discover_feeds, looks_like_feed
from connectors.opensid_plan import steady

CMS = ("opensid", "wordpress")


def detect_platform(home: FetchResponse) -> str:
    """opensid, wordpress, feed (a site that announces or is a feed) or html."""
    if opensid.detect(home) is not None:
        return "opensid"
    if wordpress.detect(home) is not None:
        return "wordpress"
    if looks_like_feed(home.content) or discover_feeds(home.content, home.url):
        return "feed"
    return "html"


class AutoConnector:
    name = "auto"

    def __init__(self, connectors: dict[str, Connector]) -> None:
        self._connectors = connectors

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest:
        if village.detected_platform == "opensid" and steady(village, datetime.now(UTC)):
            # Its plan says the home page was read lately: the poll goes straight to the feed
            # (a feed that moved or broke sends the connector back to the home page).
            return await self._connectors["opensid"].collect(village, http)
        # Fetched once per poll: the chosen connector gets the same response from the memo.
        home = require_ok(await http.get(village.url, conditional=False))
        platform = detect_platform(home)
        before = village.detected_platform
        # Only a move between real platforms counts; "feed" or "html" seen earlier may just
        # have been a less precise reading of the same site.
        changed = before in CMS and platform in CMS and before != platform
        if changed:
            # What we remembered (feed url, validators) belongs to the old platform.
            village = replace(village, feed_url=None, validators={}, plan={})
        harvest = await self._connectors[platform].collect(village, http)
        if changed:
            note = f"platform changed from {before} to {harvest.platform}"
            harvest = replace(harvest, notes=(*harvest.notes, note))
        return harvest


__all__ = ["CMS", "AutoConnector", "detect_platform"]
