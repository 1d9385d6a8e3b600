"""Guess site addresses for villages without one: try the usual domain patterns, keep those
that answer with a page naming that village, and say why. Proposals go to a review file for
an officer; nothing here touches the config.
"""

from __future__ import annotations

import asyncio
import codecs
import html
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher
from aggregator.onboarding.names import ascii_lower, slug
from aggregator.onboarding.resolve import Resolver, make_transport
from aggregator.settings import DistrictConfig, Settings, VillageConfig
from aggregator.types import FetchResponse

log = logging.getLogger(__name__)

# Host patterns seen for village sites: {d} village slug, {k} kecamatan slug, {kab} kabupaten.
PATTERNS = (
    "{d}.desa.id",
    "{d}-{k}.desa.id",
    "{d}{k}.desa.id",
    "desa{d}.id",
    "desa-{d}.id",
    "{d}.{kab}kab.go.id",
)
MAX_BODY = 2 * 1024 * 1024
CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}

# OpenSID fingerprints in a home page (docs/design.md); two or more make it OpenSID.
OPENSID_MARKERS = {
    "OpenSID name": re.compile(r"opensid", re.I),
    "theme assets": re.compile(r"/(?:vendor/|desa/)?themes/|/theme_asset/", re.I),
    "article paths": re.compile(r"(?:index\.php/)?(?:first/)?artikel/\d{4}/", re.I),
    "upload paths": re.compile(r"/desa/(?:upload|logo)/", re.I),
    "sidcsrf": re.compile(r"sidcsrf", re.I),
    "BASE_URL script": re.compile(r"var\s+BASE_URL\s*=", re.I),
}
OTHER_PLATFORMS = {
    "WordPress": re.compile(r"wp-content/|content=[\"']WordPress", re.I),
    "a news feed": re.compile(r"application/(?:rss|atom)\+xml", re.I),
}


@dataclass(frozen=True)
class Proposal:
    code: str
    name: str
    kecamatan: str
    candidate: str
    evidence: str
    confidence: str  # high | medium | low


@dataclass(frozen=True)
class Assessment:
    confidence: str
    evidence: list[str]


def candidate_hosts(village: VillageConfig, kecamatan: str, kabupaten: str) -> list[str]:
    """Host names to try for a village, most common pattern first, without duplicates."""
    names = dict.fromkeys(s for s in (slug(village.name), slug(village.name, "-")) if s)
    kec, kab = slug(kecamatan), slug(kabupaten)
    hosts = [p.format(d=d, k=kec, kab=kab) for p in PATTERNS for d in names]
    return list(dict.fromkeys(hosts))


def _name_pattern(name: str) -> str:
    """Regex for a name, tolerant of spaces or hyphens inside it ("Karang Tengah")."""
    letters = [re.escape(c) for c in ascii_lower(name) if c.isalnum()]
    return r"[\s-]?".join(letters)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", ascii_lower(html.unescape(text)))


def assess(
    page: str, village: VillageConfig, kecamatan: str, *, title: str | None = None
) -> Assessment | None:
    """How much a home page looks like this village's SID; None when it does not name it."""
    tree = LexborHTMLParser(page)
    if title is None:
        node = tree.css_first("title")
        title = node.text(strip=True) if node is not None else ""
    text = _squash(f"{title} {tree.body.text(separator=' ') if tree.body else page}")
    sebutan = r"(?:desa|kelurahan|kel\.?|pemerintah desa)"
    if not re.search(rf"\b{sebutan}\s+{_name_pattern(village.name)}\b", text):
        return None
    evidence = [f"title {title[:80]!r}" if title else "no title"]
    evidence.append(f"names {village.type.capitalize()} {village.name}")
    points = 0
    if re.search(rf"\bkec(?:amatan|\.)?\s+{_name_pattern(kecamatan)}\b", text):
        evidence.append(f"names Kecamatan {kecamatan}")
        points += 1
    digits = village.code.replace(".", "")
    if village.code in page or re.search(rf"\b{digits}\b", page):
        evidence.append(f"kode desa {village.code} in the page")
        points += 2
    opensid = [label for label, rx in OPENSID_MARKERS.items() if rx.search(page)]
    if len(opensid) >= 2:
        evidence.append("OpenSID (" + ", ".join(opensid) + ")")
        points += 2
    else:
        other = [label for label, rx in OTHER_PLATFORMS.items() if rx.search(page)]
        if other:
            evidence.append("site software: " + ", ".join(other))
            points += 1
    confidence = "high" if points >= 3 else "medium" if points >= 1 else "low"
    return Assessment(confidence, evidence)


class Prober:
    """Fetches candidate home pages through the guarded fetcher (deadline, body cap, redirects
    judged hop by hop) with a replaceable resolver, a few at a time. The resolver is the
    address guard: SystemResolver refuses non-public answers unless allowed."""

    def __init__(self, resolver: Resolver, *, timeout: float, concurrency: int) -> None:
        settings = Settings(
            request_timeout=timeout, connect_timeout=min(timeout, 10.0), max_body_bytes=MAX_BODY
        )
        transport = make_transport(resolver, max_connections=concurrency * 2)
        self._fetcher = Fetcher(settings, transport=transport)
        self._slots = asyncio.Semaphore(concurrency)

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    async def get(self, url: str) -> tuple[FetchResponse, str, int] | None:
        """(response, body text, milliseconds) of a GET, or None if nothing usable answered."""
        async with self._slots:
            started = time.monotonic()
            try:
                resp = await self._fetcher.get(url, accept="text/html,*/*;q=0.5")
            except FetchError as e:
                log.debug("discover %s: %s", url, e.message)
                return None
            body = resp.content.decode(_charset(resp.headers), errors="replace")
            return resp, body, int((time.monotonic() - started) * 1000)


def _charset(headers: Mapping[str, str]) -> str:
    """The declared charset when Python knows it, else UTF-8 (a hostile header is harmless)."""
    m = re.search(r"charset=([\w.-]+)", headers.get("content-type", ""), re.IGNORECASE)
    try:
        return codecs.lookup(m.group(1)).name if m else "utf-8"
    except LookupError:
        return "utf-8"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


async def probe_village(
    prober: Prober, village: VillageConfig, kecamatan: str, kabupaten: str
) -> list[Proposal]:
    """Proposals for one village: every candidate host that answers with its page."""

    async def one(host: str) -> Proposal | None:
        for scheme in ("https", "http"):  # plain http only when https does not answer
            url = f"{scheme}://{host}/"
            got = await prober.get(url)
            if got is None:
                continue
            resp, body, ms = got
            code = village.code
            if resp.status_code != 200:
                log.debug("village=%s url=%s: answers HTTP %d", code, url, resp.status_code)
                return None
            found = assess(body, village, kecamatan)
            if found is None:
                log.debug("village=%s url=%s: answers, does not name the village", code, url)
                return None
            final = _origin(resp.url)
            evidence = [f"HTTP 200 in {ms} ms", *found.evidence]
            if final != url:
                evidence.append(f"redirected from {url}")
            log.debug("village=%s url=%s: candidate (%s)", village.code, final, found.confidence)
            return Proposal(
                village.code, village.name, kecamatan, final, "; ".join(evidence), found.confidence
            )
        return None

    hosts = candidate_hosts(village, kecamatan, kabupaten)
    found = [p for p in await asyncio.gather(*(one(h) for h in hosts)) if p is not None]
    best: dict[str, Proposal] = {}
    for p in sorted(found, key=lambda p: CONFIDENCE_RANK[p.confidence]):
        best.setdefault(p.candidate, p)  # two patterns redirecting to one site: one row
    return list(best.values())


def _flag_shared(proposals: list[Proposal]) -> list[Proposal]:
    """A candidate proposed for two villages (same name in two kecamatan) cannot be high."""
    owners: dict[str, list[str]] = {}
    for p in proposals:
        owners.setdefault(p.candidate, []).append(p.code)
    out = []
    for p in proposals:
        others = [c for c in owners[p.candidate] if c != p.code]
        if others:
            confidence = "low" if p.confidence != "high" else "medium"
            evidence = f"{p.evidence}; also proposed for {', '.join(others)}"
            p = Proposal(p.code, p.name, p.kecamatan, p.candidate, evidence, confidence)
        out.append(p)
    return out


def without_url(config: DistrictConfig, kecamatan: str | None = None) -> list[VillageConfig]:
    """The villages discovery is for: no url yet (in one kecamatan if given)."""
    return [
        v
        for v in config.villages
        if not v.url and (kecamatan is None or v.kecamatan_code == kecamatan)
    ]


async def discover(
    config: DistrictConfig,
    resolver: Resolver,
    *,
    kecamatan: str | None = None,
    timeout: float = 10.0,
    concurrency: int = 16,
    on_village: Callable[[VillageConfig, int], None] | None = None,
) -> list[Proposal]:
    """Proposals for every village without a url (of one kecamatan if given), sorted by code
    and confidence; `on_village(village, proposals)` is called as each one finishes."""
    names = {k.code: k.name for k in config.kecamatan}
    targets = without_url(config, kecamatan)
    prober = Prober(resolver, timeout=timeout, concurrency=concurrency)
    try:

        async def run(v: VillageConfig) -> list[Proposal]:
            got = await probe_village(prober, v, names[v.kecamatan_code], config.kabupaten_name)
            if on_village is not None:
                on_village(v, len(got))
            return got

        results = await asyncio.gather(*(run(v) for v in targets))
    finally:
        await prober.aclose()
    proposals = _flag_shared([p for group in results for p in group])
    return sorted(proposals, key=lambda p: (p.code, CONFIDENCE_RANK[p.confidence], p.candidate))
