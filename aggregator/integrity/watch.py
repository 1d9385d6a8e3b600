"""The integrity watch's fetch plan (docs/design.md), run less often than the news poll.

The home page is fetched three ways — as a browser, as a search crawler, and as a visitor
arriving from a search engine — because cloaked injections show only to some of them; then
robots.txt, the sitemap and a few recent item pages. Detection itself is the pure
`aggregator.integrity`. Variant fetches use browser and crawler User-Agents on purpose:
comparing what each is served is the only way to see cloaking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher
from aggregator.integrity import (
    analyse_item,
    analyse_page,
    analyse_redirect,
    analyse_robots,
    analyse_sitemap,
    assess,
    compare_views,
)
from aggregator.integrity.liveness import PARKED_OR_SUSPENDED, classify_liveness
from aggregator.integrity.signals import Signal
from aggregator.types import SCAN_ITEM_PAGES, FetchResponse, ParsedItem

log = logging.getLogger(__name__)

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
CRAWLER_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SEARCH_REFERER = "https://www.google.com/search?q=desa"


@dataclass(frozen=True)
class FindingReport:
    kind: str
    level: str  # compromised | suspicious
    evidence: str
    url: str
    score: int
    signals: tuple[str, ...]  # signal codes, for the record


@dataclass(frozen=True)
class IntegrityReport:
    """What one scan concluded about a village site."""

    level: str  # clean | clean_with_notes | suspicious | compromised | inconclusive
    score: int
    findings: tuple[FindingReport, ...]
    notes: tuple[str, ...]
    requests: int
    liveness: str | None = None  # parked_or_suspended | default_install (T24/T25)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class _Variants:
    def __init__(self, fetcher: Fetcher, *, raising: bool = False) -> None:
        self.fetcher = fetcher
        self.requests = 0
        self.raising = raising  # a failed request raises instead of giving None

    async def get(
        self, url: str, headers: dict[str, str], *, follow: bool = True
    ) -> FetchResponse | None:
        self.requests += 1
        try:
            return await self.fetcher.get(url, headers=headers, follow_redirects=follow)
        except FetchError as e:
            if self.raising:
                raise
            log.debug("integrity: %s (%s) not fetched: %s", url, headers.get("User-Agent"), e)
            return None


async def _view(v: _Variants, url: str, headers: dict[str, str], host: str) -> FetchResponse | None:
    """One variant of a page: redirects within the site are followed, off-site ones are not."""
    resp = await v.get(url, headers, follow=False)
    hops = 0
    while resp is not None and resp.status_code in (301, 302, 303, 307, 308) and hops < 5:
        target = urljoin(resp.url, resp.headers.get("location", ""))
        if _host(target) != host:
            return resp  # judged as a redirect below, never fetched
        resp = await v.get(target, headers, follow=False)
        hops += 1
    return resp


def _final(resp: FetchResponse) -> str:
    if resp.status_code in (301, 302, 303, 307, 308):
        return urljoin(resp.url, resp.headers.get("location", ""))
    return resp.url


@dataclass(frozen=True)
class Fetched:
    """Everything the fetch plan brought back for one village."""

    home_url: str
    views: tuple[FetchResponse | None, FetchResponse | None, FetchResponse | None]
    robots: FetchResponse | None
    sitemap: FetchResponse | None
    item_pages: tuple[FetchResponse, ...]
    items: tuple[ParsedItem, ...]
    requests: int = 0


async def browser_view(fetcher: Fetcher, home_url: str) -> FetchResponse | None:
    """The scan's first view of the home page (a browser's). A poll with a scan due asks
    for it first and reads the home page from it, so the page is fetched once."""
    v = _Variants(fetcher, raising=True)  # raises FetchError: the poll fails as it would
    return await _view(v, home_url, {"User-Agent": BROWSER_UA}, _host(home_url))


async def fetch_plan(
    fetcher: Fetcher,
    home_url: str,
    items: Sequence[ParsedItem],
    shared: Mapping[str, FetchResponse] | None = None,
    read: Sequence[FetchResponse] = (),
) -> Fetched:
    """`shared`: what the poll beside the scan already fetched ("browser": the browser
    view, "robots", "sitemap"), and `read`: item pages it already read (a first poll
    confirms sitemap items by their page), used instead of asking again."""
    shared = shared or {}
    host = _host(home_url)
    v = _Variants(fetcher)
    browser = shared.get("browser") or await _view(v, home_url, {"User-Agent": BROWSER_UA}, host)
    crawler = await _view(v, home_url, {"User-Agent": CRAWLER_UA}, host)
    search = await _view(v, home_url, {"User-Agent": BROWSER_UA, "Referer": SEARCH_REFERER}, host)
    origin = f"{urlsplit(home_url).scheme}://{urlsplit(home_url).netloc}"
    robots = shared.get("robots") or await v.get(origin + "/robots.txt", {"User-Agent": BROWSER_UA})
    sitemap = shared.get("sitemap") or await v.get(
        origin + "/sitemap.xml", {"User-Agent": BROWSER_UA}
    )
    pages = [p for p in read if p.status_code == 200][:SCAN_ITEM_PAGES]
    have = {p.url for p in pages}
    wanted = [i for i in items if i.url and _host(i.url) == host and i.url not in have]
    for item in wanted[: SCAN_ITEM_PAGES - len(pages)]:
        page = await v.get(item.url, {"User-Agent": BROWSER_UA})
        if page is not None and page.status_code == 200:
            pages.append(page)
    return Fetched(
        home_url,
        (browser, crawler, search),
        robots,
        sitemap,
        tuple(pages),
        tuple(items),
        v.requests,
    )


def analyse(f: Fetched) -> IntegrityReport:
    """The pure half of a scan: every signal from what was fetched, and the verdict."""
    home_url, host = f.home_url, _host(f.home_url)
    browser, crawler, search = f.views
    signals: list[Signal] = []
    if browser is not None:
        final = _final(browser)
        if _host(final) != host:
            signals += analyse_redirect(home_url, final, site_host=host)
        else:
            signals += analyse_page(browser.content, browser.url, site_host=host)
    if browser is not None and crawler is not None and search is not None:
        b, c, s = browser, crawler, search
        signals += compare_views(
            b.content,
            c.content,
            s.content,
            home_url,
            site_host=host,
            statuses=(b.status_code, c.status_code, s.status_code),
            final_urls=(_final(b), _final(c), _final(s)),
        )
    if f.robots is not None and f.robots.status_code == 200:
        signals += analyse_robots(f.robots.content, f.robots.url, site_host=host)
    sm = f.sitemap
    if sm is not None and sm.status_code == 200 and b"<" in sm.content[:200]:
        signals += analyse_sitemap(sm.content, sm.url, site_host=host)
    for item in f.items:
        signals += analyse_item(item.title, item.summary, item.url or home_url)
    for page in f.item_pages:
        signals += analyse_page(page.content, page.url, site_host=host)
    result = assess(signals, home_url)
    findings = tuple(
        FindingReport(
            kind=x.kind,
            level=x.level,
            evidence=x.evidence,
            url=x.url,
            score=x.score,
            signals=tuple(sig.code for sig in x.signals),
        )
        for x in result.findings
    )
    notes = tuple(f"{n.code}: {n.evidence}" for n in result.notes)
    level = result.level
    liveness = classify_liveness(browser.content) if browser is not None else None
    if liveness == PARKED_OR_SUSPENDED and level in ("clean", "clean_with_notes"):
        # A hosting company's suspension page says nothing about the village's site (T24).
        level = "inconclusive"
        notes = (*notes, f"liveness: {liveness}")
    elif liveness is not None:
        notes = (*notes, f"liveness: {liveness}")
    return IntegrityReport(level, result.score, findings, notes, f.requests, liveness)


async def scan_site(
    fetcher: Fetcher,
    home_url: str,
    items: Sequence[ParsedItem],
    shared: Mapping[str, FetchResponse] | None = None,
    read: Sequence[FetchResponse] = (),
) -> IntegrityReport:
    """Run the fetch plan for one village and assess it (the analysis is CPU work: it runs in
    a thread so the event loop keeps every other village's deadlines honest)."""
    fetched = await fetch_plan(fetcher, home_url, items, shared, read)
    return await asyncio.to_thread(analyse, fetched)
