"""Connectors: one per kind of village site, chosen by the village's configured platform.

`auto` (the default) recognises the platform from the home page on every poll and hands
over to the connector below; a configured platform skips the guessing.
"""

from __future__ import annotations

from connectors.auto import AutoConnector
from connectors.base import Connector
from connectors.feed_site import FeedConnector
from connectors.html import HtmlConnector
from connectors.opensid import OpenSIDConnector
from connectors.wordpress import WordPressConnector


def _registry() -> dict[str, Connector]:
    specific: dict[str, Connector] = {
        "opensid": OpenSIDConnector(),
        "wordpress": WordPressConnector(),
        "feed": FeedConnector(),
        "html": HtmlConnector(),
    }
    return {"auto": AutoConnector(specific), **specific}


CONNECTORS: dict[str, Connector] = _registry()


def connector_for(platform: str) -> Connector:
    try:
        return CONNECTORS[platform]
    except KeyError:
        raise KeyError(f"no connector for platform {platform!r}") from None
