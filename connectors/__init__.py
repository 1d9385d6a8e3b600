"""Connectors: one per kind of village site, chosen by the village's configured platform.

Until the platform-specific connectors land (issue 3), every platform is read through its
RSS/Atom feed, which OpenSID (`/index.php/feed`) and WordPress (`/feed`) both publish; a
site without any feed is reported as reachable with a "no feed found" note.
"""

from __future__ import annotations

from connectors.base import Connector
from connectors.feed import FeedConnector

_feed = FeedConnector()

CONNECTORS: dict[str, Connector] = {
    "auto": _feed,
    "feed": _feed,
    "opensid": _feed,
    "wordpress": _feed,
    "html": _feed,
}


def connector_for(platform: str) -> Connector:
    try:
        return CONNECTORS[platform]
    except KeyError:
        raise KeyError(f"no connector for platform {platform!r}") from None
