"""robots.txt politeness: one fetch per origin per 24 h, parsed by the stdlib's parser.

A missing robots.txt (4xx) allows everything (RFC 9309 §2.3.1.3). If it cannot be fetched
at all we allow too: the poll itself will then fail and record the real phase.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher
from aggregator.types import FetchResponse

log = logging.getLogger(__name__)

USER_AGENT_TOKEN = "Sipande"
TTL_SECONDS = 24 * 3600.0
MAX_ENTRIES = 100_000
ANSWER_MAX = 32 * 1024


class RobotsCache:
    def __init__(self, fetcher: Fetcher, *, ttl: float = TTL_SECONDS) -> None:
        self._fetcher = fetcher
        self._ttl = ttl
        self._rules: dict[str, tuple[float, RobotFileParser | None]] = {}
        # The answer each rule came from and when it was read, for the integrity watch and
        # the village's plan (robots.txt is read once a day per origin, by the poller and the
        # watch together, across restarts): an error page's body is not kept, nor a
        # robots.txt over ANSWER_MAX bytes (the watch then reads it itself).
        self._answers: dict[str, tuple[datetime, FetchResponse]] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = _origin(url)
        if parts.path in ("/robots.txt",):
            return True
        entry = self._rules.get(origin)
        if entry is None or entry[0] < time.monotonic():
            entry = (time.monotonic() + self._ttl, await self._load(origin))
            self._keep(origin, entry)
        rules = entry[1]
        return True if rules is None else rules.can_fetch(USER_AGENT_TOKEN, url)

    def _keep(self, origin: str, entry: tuple[float, RobotFileParser | None]) -> None:
        if len(self._rules) >= MAX_ENTRIES:
            self._rules.clear()  # crude bound; a full refill costs one request per host
            self._answers.clear()
        self._rules[origin] = entry

    async def answer(self, url: str) -> FetchResponse | None:
        """The robots.txt answer of `url`'s origin (fetched now unless read lately); None
        when it could not be fetched or was too big to keep."""
        origin = _origin(url)
        await self.allowed(origin + "/")
        kept = self._answers.get(origin)
        return kept[1] if kept else None

    def plan_entries(self, url: str) -> dict[str, str]:
        """What a village's plan keeps of its robots.txt: when it was read, its status and
        (a 200 small enough) its text; {} when there is nothing to keep."""
        kept = self._answers.get(_origin(url))
        if kept is None:
            return {}
        at, resp = kept
        out = {"robots": at.isoformat(), "robots.status": str(resp.status_code)}
        if resp.status_code == 200:
            out["robots.txt"] = resp.content.decode("utf-8", errors="replace")
        return out

    def seed(self, url: str, plan: Mapping[str, str]) -> None:
        """Take the robots.txt a village's plan kept (see plan_entries), if read within the
        TTL and nothing newer is known: a restart does not read it again."""
        origin = _origin(url)
        if origin in self._rules:
            return
        try:
            at = datetime.fromisoformat(plan["robots"])
            status = int(plan["robots.status"])
        except (KeyError, ValueError):
            return
        age = (datetime.now(UTC) - at).total_seconds()
        if not 0 <= age < self._ttl or (status == 200 and "robots.txt" not in plan):
            return
        content = plan.get("robots.txt", "").encode() if status == 200 else b""
        resp = FetchResponse(origin + "/robots.txt", status, {}, content)
        self._keep(origin, (time.monotonic() + self._ttl - age, _parse(resp)))
        self._answers[origin] = (at, resp)

    async def _load(self, origin: str) -> RobotFileParser | None:
        self._answers.pop(origin, None)
        try:
            resp = await self._fetcher.get(origin + "/robots.txt", accept="text/plain")
        except FetchError:
            return None
        now = datetime.now(UTC)
        if resp.status_code != 200:
            self._answers[origin] = (now, replace(resp, content=b""))
        elif len(resp.content) <= ANSWER_MAX:
            self._answers[origin] = (now, resp)
        return _parse(resp)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _parse(resp: FetchResponse) -> RobotFileParser | None:
    if resp.status_code != 200:
        return None
    parser = RobotFileParser()
    parser.parse(resp.content.decode("utf-8", errors="replace").splitlines())
    return parser
