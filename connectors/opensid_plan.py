"""The plan of an OpenSID poll: which parts a poll reads, by when each was last read.

A steady poll of a known site reads the feed (and any service page due). The home page
(release, theme, visitor counter, menu) is read every HOME_EVERY; each service page every
SERVICES_EVERY, or at once when the home page's menu or release changes; each at the
village's own slot of the period (aggregator.clock.read_recently), so villages first read
together do not all come due in the same later pass. A part cut short
(a failure, the poll's time budget) stays due and is read by the next poll.

A full poll's requests, each url at most once:
  1 home page, HTML: detection, release, theme, visitor widget, menu links
  2 the feed (conditional GET); other feed candidates only if it fails
  3 /ppid, JSON on every release
  4 /internal_api/arsip?page[size]=1, JSON: articles_total and whether the JSON API exists;
    skipped when the release is known to predate it
  5-8 pemerintah, lapak, pembangunan, pengaduan: /internal_api JSON when it exists (2508+
    render those pages client-side), else the server-rendered HTML page; 2310-2410 answer
    404 for a page the web menu does not link, so only linked ones are asked there
  9 /layanan-mandiri/masuk, only when the home page does not link it
  10 the statistik page the home page links, for its residents count (not with the JSON
    API, whose releases render it in the browser; unlinked: not published, no request)
Feed, /ppid and /internal_api do not count as visits; the HTML pages do, once per session.
First poll only (no remembered feed): backfill with up to 17 internal_api/arsip pages, or
the sitemap, then the archive listing (/arsip/N, 20 articles a page) from the page that holds
the newest sitemap-only article, and article pages for what neither settles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from aggregator.clock import phase_of
from aggregator.types import VillageForPoll
from connectors.base import is_fresh
from connectors.opensid_version import version_key

HOME_EVERY = 6 * 3600.0  # a few times a day
SERVICES_EVERY = 24 * 3600.0  # daily
ARSIP_PAGE_SIZE = 30  # the JSON:API paginator's maximum
LAST_RELEASE_WITHOUT_API = (24, 10)  # umum 2410 has no /internal_api (docs/design.md)
# Releases whose service pages answer 404 unless the web menu links them (recorded on real
# 2310, 2312 and 2410, docs/design.md): an unlinked page there is "not published" unasked.
MENU_GATED = ((23, 10), LAST_RELEASE_WITHOUT_API)
SERVICE_PAGES = {  # kind → (JSON:API path, server-rendered page)
    "pemerintah": (f"internal_api/pemerintah?page[size]={ARSIP_PAGE_SIZE}", "pemerintah"),
    "lapak": ("internal_api/lapak/produk?page[size]=1", "lapak"),  # photos come inline
    "pembangunan": ("internal_api/pembangunan?page[size]=1", "pembangunan"),
    "pengaduan": ("internal_api/pengaduan?page[size]=1", "pengaduan"),
}


def steady(village: VillageForPoll, now: datetime) -> bool:
    """Whether a poll of the village may go without its home page: its feed is known and its
    plan has the home page (and the menu links it showed) read recently enough. Service pages
    due are then read from the remembered links."""
    plan = village.plan
    fresh = is_fresh(plan, "home", HOME_EVERY, now, phase_of(village.code))
    return bool(village.feed_url and "links" in plan and fresh)


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


def menu_gated(version: str | None) -> bool:
    """Whether the release shows its service pages only when the web menu links them."""
    if version is None:
        return False
    low, high = MENU_GATED
    return low <= version_key(version)[:2] <= high
