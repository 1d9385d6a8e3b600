"""The plan of an OpenSID poll: which parts a poll reads, by when each was last read.

A steady poll of a known site reads the feed alone. The home page (release, theme, visitor
counter, menu) is read every HOME_EVERY; each service page every SERVICES_EVERY, or at once
when the home page's menu or release changes. A part cut short (a failure, the poll's time
budget) stays due and is read by the next poll.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from aggregator.types import VillageForPoll
from connectors.base import is_fresh

HOME_EVERY = 6 * 3600.0  # a few times a day
SERVICES_EVERY = 24 * 3600.0  # daily
# The parts of a full poll the plan times on their own (statistik with layanan mandiri).
PARTS = ("arsip", "ppid", "pemerintah", "lapak", "pembangunan", "pengaduan", "statistik")


def steady(village: VillageForPoll, now: datetime) -> bool:
    """Whether a poll of the village may read the feed alone: its feed is known and its plan
    has the home page and every service page read recently enough."""
    plan = village.plan
    return bool(
        village.feed_url
        and is_fresh(plan, "home", HOME_EVERY, now)
        and all(is_fresh(plan, f"svc:{p}", SERVICES_EVERY, now) for p in PARTS)
    )


def menu_digest(version: str | None, links: dict[str, str]) -> str:
    """What the home page says about the services: a change re-reads every service page."""
    text = "\n".join([version or "", *(f"{k} {v}" for k, v in sorted(links.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
