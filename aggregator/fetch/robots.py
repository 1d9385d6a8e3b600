"""robots.txt politeness: one fetch per origin per 24 h, parsed by the stdlib's parser.

A missing robots.txt (4xx) allows everything (RFC 9309 §2.3.1.3). If it cannot be fetched
at all we allow too: the poll itself will then fail and record the real phase.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher

log = logging.getLogger(__name__)

USER_AGENT_TOKEN = "Sipande"
TTL_SECONDS = 24 * 3600.0
MAX_ENTRIES = 100_000


class RobotsCache:
    def __init__(self, fetcher: Fetcher, *, ttl: float = TTL_SECONDS) -> None:
        self._fetcher = fetcher
        self._ttl = ttl
        self._rules: dict[str, tuple[float, RobotFileParser | None]] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if parts.path in ("/robots.txt",):
            return True
        entry = self._rules.get(origin)
        if entry is None or entry[0] < time.monotonic():
            entry = (time.monotonic() + self._ttl, await self._load(origin))
            if len(self._rules) >= MAX_ENTRIES:
                self._rules.clear()  # crude bound; a full refill costs one request per host
            self._rules[origin] = entry
        rules = entry[1]
        return True if rules is None else rules.can_fetch(USER_AGENT_TOKEN, url)

    async def _load(self, origin: str) -> RobotFileParser | None:
        try:
            resp = await self._fetcher.get(origin + "/robots.txt", accept="text/plain")
        except FetchError:
            return None
        if resp.status_code != 200:
            return None
        parser = RobotFileParser()
        parser.parse(resp.content.decode("utf-8", errors="replace").splitlines())
        return parser
