"""The plan of an OpenSID poll: which parts a poll reads, by when each was last read.

A steady poll of a known site reads the feed (and any service page due). The home page
(release, theme, visitor counter, menu) is read every HOME_EVERY; each service page every
SERVICES_EVERY, or at once when the home page's menu or release changes. A part cut short
(a failure, the poll's time budget) stays due and is read by the next poll.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from aggregator.types import VillageForPoll
from connectors.base import is_fresh

HOME_EVERY = 6 * 3600.0  # a few times a day
SERVICES_EVERY = 24 * 3600.0  # daily


def steady(village: VillageForPoll, now: datetime) -> bool:
    """Whether a poll of the village may go without its home page: its feed is known and its
    plan has the home page (and the menu links it showed) read recently enough. Service pages
    due are then read from the remembered links."""
    plan = village.plan
    return bool(village.feed_url and "links" in plan and is_fresh(plan, "home", HOME_EVERY, now))


def remembered_links(plan: Mapping[str, str]) -> dict[str, str]:
    """The service links (kind → url) the home page showed when last read."""
    try:
        links = json.loads(plan.get("links") or "{}")
    except ValueError:
        return {}
    if not isinstance(links, dict):
        return {}
    return {str(k): str(v) for k, v in links.items() if isinstance(v, str)}


def menu_digest(version: str | None, links: dict[str, str]) -> str:
    """What the home page says about the services: a change re-reads every service page."""
    text = "\n".join([version or "", *(f"{k} {v}" for k, v in sorted(links.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
