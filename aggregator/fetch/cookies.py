"""Per-site cookie jar: Sipande visits a village site as one returning visitor, not a new one
on every request.

OpenSID counts a visitor once per PHP session and an article read once per session (its
session cookie is `ci_session`); a client that sends no cookies opens a new session, and so
a new "visit", with every HTML page it asks for. Keeping each site's cookies across requests,
polls and restarts makes all of Sipande (poller, integrity watch, yardsticks) one visitor
whose session lives as long as the site keeps it (docs/design.md, "Visits").

Cookies are kept per host name, as a browser does (see host_of for ports), only as
name → value: no attribute but a deletion is honoured, and nothing is ever sent to a host
other than the one that set it. Bounded: at most MAX_COOKIES per host, MAX_VALUE bytes per
value, and MAX_HOSTS hosts (least recently used dropped).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

MAX_COOKIES = 8
MAX_VALUE = 512
MAX_NAME = 64
MAX_HOSTS = 100_000
MAX_STORED_HOSTS = 3  # per village: its own host and where its home page redirects


def host_of(url: str) -> str:
    """The jar's key: the host name, with the port only when it is not 80 or 443 (a site's
    http and https pages share a session as in a browser; two sites on one address with
    different ports, as on loopback, do not)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return host
    return host if port in (None, 80, 443) else f"{host}:{port}"


def _parse_one(header: str, now: datetime) -> tuple[str, str | None] | None:
    """(name, value) of one Set-Cookie header, value None for a deletion; None if unusable."""
    first, _, attrs = header.partition(";")
    name, eq, value = first.partition("=")
    name, value = name.strip(), value.strip().strip('"')
    if not eq or not name or len(name) > MAX_NAME or any(c in name for c in " ,\t\r\n"):
        return None
    if len(value) > MAX_VALUE or any(c in value for c in ";\r\n"):
        return None
    for attr in attrs.split(";"):
        key, _, arg = attr.partition("=")
        key, arg = key.strip().lower(), arg.strip()
        if key == "max-age":
            try:
                if int(arg) <= 0:
                    return name, None
            except ValueError:
                pass
        elif key == "expires":
            try:
                when = parsedate_to_datetime(arg)
            except (TypeError, ValueError, IndexError):
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when <= now:
                return name, None
    return name, value


def merge_set_cookies(
    jar: Mapping[str, str], headers: Iterable[str], now: datetime | None = None
) -> dict[str, str]:
    """`jar` updated by the Set-Cookie `headers` of one response (bounded)."""
    now = now or datetime.now(UTC)
    out = dict(jar)
    for header in headers:
        parsed = _parse_one(header, now)
        if parsed is None:
            continue
        name, value = parsed
        if value is None:
            out.pop(name, None)
        elif name in out or len(out) < MAX_COOKIES:
            out[name] = value
    return out


def cookie_header(jar: Mapping[str, str]) -> str | None:
    return "; ".join(f"{k}={v}" for k, v in jar.items()) or None


class SiteJar:
    """The process's cookies, per host; shared by every caller of one Fetcher."""

    def __init__(self, max_hosts: int = MAX_HOSTS) -> None:
        self._hosts: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._max_hosts = max_hosts

    def __len__(self) -> int:
        return len(self._hosts)

    def for_host(self, host: str) -> dict[str, str]:
        jar = self._hosts.get(host)
        return dict(jar) if jar else {}

    def snapshot(self, urls: Iterable[str]) -> dict[str, dict[str, str]]:
        """host → cookies for the hosts of `urls` that hold any (what the store keeps)."""
        hosts = dict.fromkeys(host_of(u) for u in urls)
        return {h: jar for h in hosts if h and (jar := self.for_host(h))}

    def header_for(self, url: str) -> str | None:
        host = host_of(url)
        jar = self._hosts.get(host)
        if not jar:
            return None
        self._hosts.move_to_end(host)
        return cookie_header(jar)

    def learn(self, url: str, set_cookie_headers: Iterable[str]) -> None:
        headers = list(set_cookie_headers)
        if not headers:
            return
        host = host_of(url)
        if host:
            self._put(host, merge_set_cookies(self._hosts.get(host, {}), headers))

    def seed(self, kept: Mapping[str, Mapping[str, str]]) -> None:
        """Cookies remembered by the store (host → cookies), unless this process already
        holds newer ones for that host."""
        for host, cookies in list(kept.items())[:MAX_STORED_HOSTS]:
            if host and isinstance(cookies, Mapping) and host not in self._hosts:
                pairs = (f"{k}={v}" for k, v in cookies.items() if isinstance(v, str))
                self._put(host.lower(), merge_set_cookies({}, pairs))

    def _put(self, host: str, jar: dict[str, str]) -> None:
        if not jar:
            self._hosts.pop(host, None)
            return
        self._hosts[host] = jar
        self._hosts.move_to_end(host)
        while len(self._hosts) > self._max_hosts:
            self._hosts.popitem(last=False)
