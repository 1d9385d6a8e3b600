"""OpenSID's visit counting, as a real site does it: a theme page counts one visitor per new
PHP session (cookie `ci_session`) with no robot filter, and an article page one read per
session unless the User-Agent looks like a robot. Feed, sitemap, /ppid, /internal_api and
static files count nothing. A client that sends no cookie is a new visitor on every page.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from .httpd import Request

COOKIE = "ci_session"
_UNCOUNTED = re.compile(
    r"(?:/index\.php)?/(?:feed|feed\.xml|sitemap|sitemap\.xml|ppid|internal_api/.*|robots\.txt"
    r"|layanan-mandiri.*|siteman|.*\.(?:css|js|png|gif|jpg|ico))/?"
)
# CodeIgniter's robot list and crawler patterns: Sipande's own User-Agent is not among them.
_ROBOT = re.compile(r"bot|crawl|spider|slurp|archiver|fetcher", re.IGNORECASE)
_ids = itertools.count(1)


def _session_of(request: Request) -> str | None:
    for part in request.headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


class VisitCounter:
    """Visits and article reads a site's own statistics would show, caused by its clients."""

    def __init__(self) -> None:
        self.sessions: set[str] = set()
        self.visits = 0  # new sessions on counted pages: what "Hari ini" grows by
        self.reads: Counter[str] = Counter()  # article slug -> reads counted
        self._read: set[tuple[str, str]] = set()

    def count(self, request: Request, path: str, article: str | None) -> list[tuple[str, str]]:
        """Count one answered HTML page; returns the Set-Cookie header of a new session."""
        if _UNCOUNTED.fullmatch(path):
            return []
        session = _session_of(request)
        headers: list[tuple[str, str]] = []
        if session is None or session not in self.sessions:
            session = f"s{next(_ids):08x}"
            self.sessions.add(session)
            self.visits += 1
            headers.append(("Set-Cookie", f"{COOKIE}={session}; path=/; HttpOnly"))
        robot = bool(_ROBOT.search(request.headers.get("user-agent", "")))
        if article is not None and not robot and (session, article) not in self._read:
            self._read.add((session, article))
            self.reads[article] += 1
        return headers
