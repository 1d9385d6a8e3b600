"""Domain expiry through RDAP (RFC 9083): GET {base}/domain/{name}, read the `expiration`
event. The base url is configuration: rdap.org redirects to the registry (PANDI runs .id);
tests point it at a server on loopback.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher
from aggregator.yardsticks.common import days_until

log = logging.getLogger(__name__)

DEFAULT_RDAP_BASE = "https://rdap.org"
# Second-level names under .id that PANDI registers (a village is `nama.desa.id`).
ID_SECOND_LEVEL = frozenset(
    ("ac", "biz", "co", "desa", "go", "mil", "my", "net", "or", "ponpes", "sch", "web")
)


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    found: bool  # the registry answered with the domain object
    expires_at: datetime | None
    status: tuple[str, ...] = ()  # RDAP status values, e.g. "active", "client hold"
    detail: str = ""  # why nothing was learnt, when nothing was

    def days_left(self, now: datetime) -> int | None:
        return days_until(self.expires_at, now) if self.expires_at is not None else None


def registered_domain(host: str | None) -> str | None:
    """The name a village registered: "www.sukamaju.desa.id" → "sukamaju.desa.id"; None for
    an IP address or a single label."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    labels = host.split(".")
    if len(labels) < 2:
        return None
    keep = 3 if len(labels) >= 3 and labels[-1] == "id" and labels[-2] in ID_SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _parse_date(text: object) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_rdap_domain(domain: str, content: bytes) -> DomainCheck:
    """The expiry and status of an RDAP domain object (RFC 9083 §5.3, events §4.5)."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return DomainCheck(domain, False, None, detail="RDAP answer is not JSON")
    if not isinstance(doc, dict) or doc.get("objectClassName") != "domain":
        return DomainCheck(domain, False, None, detail="RDAP answer is not a domain object")
    expires = None
    for event in doc.get("events") or ():
        if isinstance(event, dict) and event.get("eventAction") == "expiration":
            expires = _parse_date(event.get("eventDate")) or expires
    status = tuple(str(s) for s in doc.get("status") or () if isinstance(s, str))
    detail = "" if expires else "RDAP answer has no expiration event"
    return DomainCheck(domain, True, expires, status, detail)


class RdapClient:
    """Looks domains up through the fetcher (same limits, private-address guard and UA)."""

    def __init__(
        self,
        fetcher: Fetcher,
        base_url: str = DEFAULT_RDAP_BASE,
        *,
        suffixes: Sequence[str] = ("id",),
    ) -> None:
        self._fetcher = fetcher
        self._base = base_url.rstrip("/")
        self._suffixes = tuple(s.lower().strip(".") for s in suffixes)

    def serves(self, domain: str) -> bool:
        return any(domain == s or domain.endswith("." + s) for s in self._suffixes)

    async def __call__(self, domain: str) -> DomainCheck:
        return await self.lookup(domain)

    async def lookup(self, domain: str) -> DomainCheck:
        if not self.serves(domain):
            return DomainCheck(domain, False, None, detail="RDAP: not configured for this domain")
        url = f"{self._base}/domain/{domain}"
        try:
            resp = await self._fetcher.get(url, accept="application/rdap+json, application/json")
        except FetchError as e:
            log.info("rdap %s: %s", domain, e.message)
            return DomainCheck(domain, False, None, detail=f"RDAP: {e.message}")
        if resp.status_code == 404:
            # Not registered, deleted after lapsing, or a server that does not serve the TLD:
            # not proof of expiry, so reported as unknown.
            return DomainCheck(domain, False, None, detail="RDAP: domain not found (HTTP 404)")
        if resp.status_code != 200:
            return DomainCheck(domain, False, None, detail=f"RDAP: HTTP {resp.status_code}")
        return parse_rdap_domain(domain, resp.content)
