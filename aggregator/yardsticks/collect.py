"""The one I/O step of the yardsticks: a few requests to a village site (http and https home,
OpenSID's /ppid, informasi-publik and peraturan-desa), a TLS probe and an RDAP lookup, turned
into frozen facts, both scores and the coaching list, storable as JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from aggregator.decide.scoring import Score
from aggregator.errors import FetchError, ParseError
from aggregator.fetch.client import Fetcher
from aggregator.types import FetchResponse
from aggregator.yardsticks.coaching import CoachingItem, CoachingSettings, coaching_list
from aggregator.yardsticks.common import jsonable
from aggregator.yardsticks.kip import KipFacts, KipSettings, KipSources, build_kip_facts, score_kip
from aggregator.yardsticks.kip_parse import (
    DocumentPage,
    PpidDocument,
    parse_datatables,
    parse_document_page,
    parse_home_links,
    parse_ppid_documents,
)
from aggregator.yardsticks.rdap import DomainCheck, registered_domain
from aggregator.yardsticks.releases import Release, VersionCheck, check_version, load_releases
from aggregator.yardsticks.security import (
    SecurityFacts,
    SecuritySettings,
    check_headers,
    find_mixed_content,
    score_security,
)
from aggregator.yardsticks.tlsprobe import UNKNOWN_PROBLEMS, TlsCheck, TlsProber
from connectors.opensid_parse import looks_like_json, site_base

log = logging.getLogger(__name__)

TlsProbe = Callable[[str, int], Awaitable[TlsCheck]]
DomainLookup = Callable[[str], Awaitable[DomainCheck]]
MAX_HTTP_HOPS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class YardstickReport:
    """Everything one collection learned about a village; `as_json()` is what to store."""

    url: str
    checked_at: datetime
    kip: KipFacts
    kip_score: Score
    security: SecurityFacts
    security_score: Score
    tls: TlsCheck | None
    domain: DomainCheck | None
    coaching: tuple[CoachingItem, ...]  # KIP and security items; add activity ones when shown
    notes: tuple[str, ...] = ()

    def columns(self) -> dict[str, Any]:
        """Flat values worth their own table columns (filtering, sorting, trends)."""
        v = self.security.version
        return {
            "kip_score": self.kip_score.score,
            "security_score": self.security_score.score,
            "https_offered": self.security.https_offered,
            "https_enforced": self.security.https_enforced,
            "cert_days_left": self.security.cert_days_left,
            "cert_problem": self.security.cert_problem,
            "domain_days_left": self.security.domain_days_left,
            "opensid_behind": v.behind if v else None,
            "ppid_documents": len(self.kip.documents) if self.kip.documents is not None else None,
            "coaching_items": len(self.coaching),
        }

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            f.name: jsonable(getattr(self, f.name))
            for f in fields(self)
            if f.name not in ("kip_score", "security_score")
        }
        out["kip_score"] = self.kip_score.as_json()
        out["security_score"] = self.security_score.as_json()
        out["kip_categories"] = self.kip.category_counts()
        return out


def _with_scheme(url: str, scheme: str) -> str:
    """`url` on the other scheme; an explicit port belonged to the old scheme and is dropped."""
    parts = urlsplit(url)
    if parts.scheme == scheme:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def _ok(resp: FetchResponse | None) -> bool:
    return resp is not None and 200 <= resp.status_code < 300


class _Collection:
    def __init__(self, fetcher: Fetcher, notes: list[str]) -> None:
        self.fetcher = fetcher
        self.notes = notes

    async def get(self, what: str, url: str, **kw: Any) -> FetchResponse | None:
        try:
            return await self.fetcher.get(url, **kw)
        except FetchError as e:
            self.notes.append(f"{what}: {e.message}")
            return None

    async def http_redirect(self, url: str) -> tuple[bool | None, FetchResponse | None]:
        """(whether http:// ends on https://, the http page when it does not)."""
        for _ in range(MAX_HTTP_HOPS):
            try:
                resp = await self.fetcher.get(url, follow_redirects=False)
            except FetchError as e:
                self.notes.append(f"http: {e.message}")
                # Nothing listening on port 80 serves nothing insecurely.
                refused = e.phase == "connect" and "refused" in e.message.lower()
                return (True if refused else None), None
            location = resp.headers.get("location")
            if resp.status_code in _REDIRECTS and location:
                url = urljoin(url, location)
                if urlsplit(url).scheme == "https":
                    return True, None
                continue
            return False, resp
        return None, None

    async def ppid(self, base: str) -> tuple[PpidDocument, ...] | None:
        # /ppid exists on every release since 21.01; /internal_api/ppid (2508+) is the fallback.
        for path in ("ppid", "internal_api/ppid?page[size]=30"):
            resp = await self.get("ppid", f"{base}/index.php/{path}")
            if not _ok(resp) or resp is None or not looks_like_json(resp.content):
                continue
            try:
                return parse_ppid_documents(resp.content, base)
            except ParseError as e:
                self.notes.append(f"ppid: {e}")
        return None

    async def page(
        self, what: str, url: str, base: str, *, absent_is_empty: bool
    ) -> tuple[DocumentPage | None, str | None]:
        resp = await self.get(what, url)
        if resp is None:
            return None, None
        if resp.status_code == 404:
            # No regulations page means none published; no informasi-publik page says nothing
            # the /ppid list does not say better.
            return (DocumentPage(True, ()) if absent_is_empty else None), None
        if not _ok(resp):
            self.notes.append(f"{what}: HTTP {resp.status_code}")
            return None, None
        return parse_document_page(resp.content, base), resp.url

    async def peraturan(self, base: str) -> tuple[DocumentPage | None, str | None]:
        page, url = await self.page(
            "peraturan-desa", f"{base}/index.php/peraturan-desa", base, absent_is_empty=True
        )
        if page is None or page.readable or url is None:
            return page, url
        # A DataTables shell: its rows come from /peraturan-desa/datatables.
        query = "draw=1&start=0&length=100"
        resp = await self.get(
            "peraturan-desa",
            f"{base}/index.php/peraturan-desa/datatables?{query}",
            headers={"X-Requested-With": "XMLHttpRequest"},
        )
        if resp is not None and _ok(resp) and looks_like_json(resp.content):
            try:
                return parse_datatables(resp.content, base), url
            except ParseError as e:
                self.notes.append(f"peraturan-desa: {e}")
        return page, url

    async def kip_sources(self, home: FetchResponse | None, *, opensid: bool) -> KipSources:
        if home is None:
            self.notes.append("home page unreadable: KIP items unknown")
            return KipSources()
        base = site_base(home.url)
        links = parse_home_links(home.content, base)
        if not opensid:  # other platforms: only what the home page links
            return KipSources(home_links=links)
        info, info_url = await self.page(
            "informasi-publik", f"{base}/index.php/informasi-publik", base, absent_is_empty=False
        )
        peraturan, peraturan_url = await self.peraturan(base)
        return KipSources(
            ppid=await self.ppid(base),
            informasi_publik=info,
            informasi_publik_url=info_url or links.get("informasi_publik"),
            peraturan=peraturan,
            peraturan_url=peraturan_url or links.get("peraturan"),
            home_links=links,
        )


def _security_facts(
    tls: TlsCheck,
    home: FetchResponse | None,
    *,
    https_home: FetchResponse | None,
    enforced: bool | None,
    platform: str | None,
    version: VersionCheck | None,
    open_findings: int,
    domain_name: str | None,
    domain: DomainCheck | None,
    now: datetime,
) -> SecurityFacts:
    offered: bool | None = tls.offered
    if tls.problem in (*UNKNOWN_PROBLEMS, "unreachable"):
        offered = True if _ok(https_home) else None  # the probe could not tell; the page can
    cert = tls.certificate
    is_https = home is not None and urlsplit(home.url).scheme == "https"
    mixed, mixed_urls = find_mixed_content(home.content, home.url) if home and is_https else (0, ())
    return SecurityFacts(
        has_site=True,
        https_offered=offered,
        https_enforced=enforced if offered else None,
        cert_problem=tls.problem if tls.offered else None,
        cert_days_left=cert.days_left(now) if cert else None,
        cert_names=cert.names if cert else (),
        cert_issuer=cert.issuer if cert else None,
        platform=platform,
        version=version if platform == "opensid" else None,
        headers=check_headers(home.headers, https=is_https) if home else None,
        mixed_content=mixed if is_https else None,
        mixed_urls=mixed_urls,
        open_findings=open_findings,
        domain=domain_name,
        domain_days_left=domain.days_left(now) if domain else None,
    )


async def collect_yardsticks(
    fetcher: Fetcher,
    home_url: str,
    *,
    platform: str | None,
    version: str | None,
    open_findings: int,
    now: datetime,
    tls_probe: TlsProbe | None = None,
    rdap: DomainLookup | None = None,
    releases: Sequence[Release] | None = None,
    http_url: str | None = None,
    https_url: str | None = None,
    kip_settings: KipSettings | None = None,
    security_settings: SecuritySettings | None = None,
    coaching_settings: CoachingSettings | None = None,
) -> YardstickReport:
    """Collect both yardsticks for one village site.

    `tls_probe` defaults to a `TlsProber` with the fetcher's private-address rule; `rdap`
    defaults to none (domain expiry unknown), so only a configured client reaches a registry.
    `http_url`/`https_url` override the two forms of the home page (tests on loopback ports).
    """
    notes: list[str] = []
    c = _Collection(fetcher, notes)
    https_url = https_url or _with_scheme(home_url, "https")
    http_url = http_url or _with_scheme(home_url, "http")
    target = urlsplit(https_url)
    host = target.hostname or ""
    if tls_probe is None:
        settings = fetcher.settings
        tls_probe = TlsProber(
            timeout=settings.connect_timeout, allow_private=settings.allow_private_addresses
        )
    tls = await tls_probe(host, target.port or 443)
    enforced, http_home = await c.http_redirect(http_url)
    https_home = await c.get("https", https_url) if tls.offered else None
    home = https_home if _ok(https_home) else http_home if _ok(http_home) else None

    domain_name = registered_domain(urlsplit(home_url).hostname)
    domain = await rdap(domain_name) if rdap is not None and domain_name else None
    security = _security_facts(
        tls,
        home,
        https_home=https_home,
        enforced=enforced,
        platform=platform,
        version=check_version(version, releases if releases is not None else load_releases()),
        open_findings=open_findings,
        domain_name=domain_name,
        domain=domain,
        now=now,
    )
    sources = await c.kip_sources(home, opensid=platform == "opensid")
    kip = build_kip_facts(sources, now)
    for note in notes:
        log.info("yardsticks url=%s: %s", home_url, note)
    return YardstickReport(
        url=home_url,
        checked_at=now,
        kip=kip,
        kip_score=score_kip(kip, kip_settings or KipSettings()),
        security=security,
        security_score=score_security(security, security_settings or SecuritySettings()),
        tls=tls,
        domain=domain,
        coaching=coaching_list(kip=kip, security=security, settings=coaching_settings),
        notes=tuple(notes),
    )
