"""OpenSID connector: news from the feed (backfilled once from internal_api/arsip or the
sitemap), services from public JSON or pages, visitor counts from the home page widget.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from aggregator.clock import phase_of
from aggregator.errors import FetchError, ParseError
from aggregator.types import (
    FetchResponse,
    Harvest,
    HttpGetter,
    ParsedItem,
    ServiceObservation,
    VillageForPoll,
)
from connectors.base import is_fresh, parse_off_loop, read_at, require_ok
from connectors.feed import ParsedFeed, discover_feeds, feed_state, looks_like_feed, reread_feed
from connectors.normalise import WIB, normalise_url
from connectors.opensid_backfill import backfill
from connectors.opensid_html import (
    Detection,
    detect,
    detect_page,
    page_tree,
    parse_lapak_html,
    parse_pembangunan_html,
    parse_pemerintah_html,
    parse_pengaduan_html,
    parse_statistik_total,
    parse_visitor_widget,
    service_links,
)
from connectors.opensid_parse import (
    canonical_article_url,
    looks_like_json,
    parse_arsip,
    parse_jsonapi_count,
    parse_pemerintah_json,
    parse_ppid,
    site_base,
    stated_offsets,
)
from connectors.opensid_plan import (
    LAST_RELEASE_WITHOUT_API,
    SERVICE_PAGES,
    SERVICES_EVERY,
    menu_digest,
    menu_gated,
    remembered_links,
    steady,
)
from connectors.opensid_version import exact_version, version_key

__all__ = ["Detection", "OpenSIDConnector", "canonical_item", "detect"]

log = logging.getLogger(__name__)

# A poll's requests, in order: connectors/opensid_plan.py.
_UTC_NAMES = {b"+0000", b"-0000", b"GMT", b"UTC"}


def canonical_item(item: ParsedItem) -> ParsedItem:
    """The item with its canonical article url, also as guid when the guid was the link or
    missing (no <guid> before v22.06), so dedup holds across OpenSID releases and sources.
    A known item (stored by an earlier poll, left out of the merge) comes back as it is."""
    if item.known:
        return item
    url = canonical_article_url(item.url)
    guid = item.guid
    if guid is None or canonical_article_url(normalise_url(guid)) == url:
        guid = url
    # OpenSID cuts the excerpt from the raw HTML body, so a body starting with markup gives
    # an empty one, "[...]" alone; the generic parser then leaves just " …".
    summary = item.summary if item.summary.strip(" …") else ""
    return replace(item, url=url, guid=guid, summary=summary)


def _ok(resp: FetchResponse) -> bool:
    return 200 <= resp.status_code < 300


class _Poll:
    """One poll of one village: the requests in order and what they taught."""

    def __init__(
        self,
        village: VillageForPoll,
        http: HttpGetter,
        home: FetchResponse | None,
        now: datetime | None = None,
    ) -> None:
        self.village = village
        self.http = http
        self.home = home  # None: a steady poll, the feed alone
        self.base = site_base(home.url if home is not None else village.url)
        self.now = now or datetime.now(UTC)
        self.phase = phase_of(village.code)  # where in each period its parts are read
        self.known: Mapping[str, str] = village.plan
        self.plan: dict[str, str] = {}  # what this poll read in full, for the plan
        self.notes: list[str] = []
        self.services: list[ServiceObservation] = []
        self.metrics: dict[str, float] = {}
        self.gave_up = False
        self.feed_state: dict[str, str] = {}
        self.feed_body = b""

    def url(self, path: str) -> str:
        # {base}/index.php/{path} works with and without .htaccess.
        return f"{self.base}/index.php/{path}"

    def note(self, text: str) -> None:
        self.notes.append(text)  # on the check; the poller logs one line per village
        log.debug("village=%s url=%s: %s", self.village.code, self.village.url, text)

    async def get(self, kind: str, url: str) -> FetchResponse | None:
        """GET an optional endpoint; a network failure becomes a note and None.

        After one failure the remaining optional endpoints are skipped: a site that stopped
        answering would otherwise spend the poll's deadline and lose the news already read.
        What is skipped stays due in the plan: the next poll reads it.
        """
        if self.gave_up:
            return None
        try:
            return await self.http.get(url, conditional=False)
        except FetchError as e:
            self.gave_up = True
            later = "deferred to the next poll" if e.phase == "deferred" else "skipped"
            self.note(f"{kind}: {e.message} (later endpoints {later})")
            return None

    def due(self, part: str) -> bool:
        key = f"svc:{part}"
        # A new village's service pages come at its slot (clock.settling). "arsip" is no
        # service page but the JSON API probe, which the first poll's backfill needs.
        if self.village.settling and part != "arsip" and read_at(self.known, key) is None:
            return False
        return not is_fresh(self.known, key, SERVICES_EVERY, self.now, self.phase)

    def done(self, part: str) -> None:
        """`part` was read in full (not cut short by a failure or the poll's budget)."""
        if not self.gave_up:
            self.plan[f"svc:{part}"] = self.now.isoformat()

    async def run(self) -> Harvest:
        found = detect(self.home) if self.home is not None else None
        version = found.version if found else None
        links = remembered_links(self.known)  # the menu as the home page showed it lately
        if self.home is not None:
            tree = page_tree(self.home.content)
            self.metrics.update(parse_visitor_widget(tree))
            links = service_links(tree, self.base)
            del tree  # ~0.7 MB: not held across the awaits below
            menu = menu_digest(version, links)
            if menu != self.known.get("menu"):
                self.known = {}  # the menu or the release moved: every service page is due
            self.plan |= {
                "home": self.now.isoformat(),
                "menu": menu,
                "links": json.dumps(links, sort_keys=True),
                "version": version or "",
            }
        feed_url, feed = await self.feed()
        items = tuple(canonical_item(i) for i in feed.items) if feed else ()
        if feed is not None and self.feed_body:
            items = self.local_times(self.feed_body, items)
        if feed is not None:
            version = version or exact_version(feed.version)
            if self.home is not None and found is None and feed.platform != "opensid":
                self.note("no OpenSID markers on the home page or in the feed")
        # Service pages due (their day has come, or a slow site's deferred ones): read now,
        # with the menu links remembered when the home page was not read by this poll.
        known_version = version or self.known.get("version") or None
        api, learnt = await self.read_services(known_version, links)
        version = version or (learnt if learnt != known_version else None)
        if self.village.feed_url is None and feed is not None:
            items += await backfill(self, api, {i.url for i in items})
        return Harvest(
            platform="opensid",
            version=version,
            feed_url=feed_url,
            items=items,
            services=tuple(self.services),
            metrics=self.metrics,
            not_modified=feed is None,
            notes=tuple(self.notes),
            feed_state=self.feed_state,
            plan=self.plan,
        )

    async def read_services(
        self, version: str | None, links: dict[str, str]
    ) -> tuple[bool, str | None]:
        """The service pages the plan has due; returns (JSON API exists, release)."""
        api = self.known.get("api") == "1"
        if self.due("arsip"):
            api = await self.probe_api(version)
            self.plan["api"] = "1" if api else "0"
            self.done("arsip")
        if self.due("ppid"):
            await self.ppid()
            self.done("ppid")
        gated = not api and menu_gated(version)
        for kind in SERVICE_PAGES:
            if self.due(kind):
                if gated and kind not in links:  # it would answer 404
                    self.services.append(ServiceObservation(kind, False))
                else:
                    await self.service(kind, api, links.get(kind))
                self.done(kind)
        if self.due("statistik"):
            residents = await self.statistik(links.get("statistik"), api)
            version = await self.layanan_mandiri(links.get("layanan_mandiri"), version, residents)
            self.done("statistik")
        return api, version

    def local_times(self, raw: bytes, items: tuple[ParsedItem, ...]) -> tuple[ParsedItem, ...]:
        """OpenSID stores an article's time as the village's wall clock and its feed prints
        those digits with php.ini's offset, not the village's: a server left at UTC (php.ini
        unset) says "+0000" for WIB digits, seven hours late (seen on real 2310-2410). Such
        digits are the local time the article page shows, so they are read as WIB. Another
        offset (+0800 on a server set to Asia/Makassar) was set on purpose and is kept."""
        offsets = stated_offsets(raw)
        if not offsets or not offsets <= _UTC_NAMES:
            return items
        self.note("feed: times given in UTC (+0000) read as the village's local time (WIB)")
        return tuple(
            replace(i, published_at=i.published_at.astimezone(UTC).replace(tzinfo=WIB))
            if i.published_at and not i.known
            else i
            for i in items
        )

    async def feed(self) -> tuple[str, ParsedFeed | None]:
        """(feed url, parsed feed or None on 304); raises when no candidate is a feed."""
        # /index.php/feed exists on every release; discovered links come last because
        # esensi's rss "alternate" link points at the sitemap.
        candidates = [self.village.feed_url, self.url("feed")]
        if self.home is not None:
            candidates += discover_feeds(self.home.content, self.home.url)[:1]
        failure: FetchError | ParseError = ParseError("no feed")
        for url in dict.fromkeys(u for u in candidates if u):
            try:
                resp = await self.http.get(url)
            except FetchError as e:
                failure = e
                continue
            if resp.not_modified:
                return url, None
            if not _ok(resp):
                failure = FetchError(
                    "http", f"feed: HTTP {resp.status_code}", url=url, status_code=resp.status_code
                )
            elif not looks_like_feed(resp.content):
                failure = ParseError(f"feed: {url} is not RSS")
            else:
                state = feed_state(self.village, url)
                try:
                    # A big document is parsed off the event loop (see parse_off_loop).
                    reread = await parse_off_loop(
                        resp.content, reread_feed, resp.content, resp.url, state
                    )
                except ParseError as e:
                    failure = e
                    continue
                if reread is None:  # the very body stored last time: as good as a 304
                    return url, None
                feed, _notes, self.feed_state = reread
                self.feed_body = resp.content
                return url, feed
        raise failure

    async def probe_api(self, version: str | None) -> bool:
        """Whether /internal_api answers; records articles_total from it."""
        if version is not None and version_key(version)[:2] <= LAST_RELEASE_WITHOUT_API:
            return False
        resp = await self.get("arsip", self.url("internal_api/arsip?page[size]=1"))
        if resp is None or not _ok(resp) or not looks_like_json(resp.content):
            return False  # 404 or an HTML page: a release before the JSON API
        try:
            page = parse_arsip(resp.content, self.base)
        except ParseError as e:
            self.note(f"arsip: {e}")
            return False
        if page.total is not None:
            self.metrics["articles_total"] = float(page.total)
        return True

    async def ppid(self) -> None:
        resp = await self.get("ppid", self.url("ppid"))
        if resp is None or not self.published("ppid", resp):
            return
        try:
            summary = parse_ppid(resp.content)
        except ParseError as e:
            self.note(f"ppid: {e}")
            return
        page = self.url("informasi-publik")
        self.services.append(
            ServiceObservation("ppid", True, summary.count, summary.last_date, url=page)
        )

    def published(self, kind: str, resp: FetchResponse, *, service: bool = True) -> bool:
        """False (and noted) unless 2xx; a service's 404 is recorded as "not available": data
        pages 404 when the admin left them out of the menu; another error as published but
        broken."""
        if resp.status_code == 404 and service:
            self.services.append(ServiceObservation(kind, False))
            self.note(f"{kind}: not published (HTTP 404)")
        elif not _ok(resp):
            self.note(f"{kind}: HTTP {resp.status_code}")
            if service:  # published but broken: real 2410 esensi answers 500 on four
                error = f"HTTP {resp.status_code}"
                self.services.append(ServiceObservation(kind, True, url=resp.url, error=error))
        return _ok(resp)

    async def service(self, kind: str, api: bool, link: str | None) -> None:
        api_path, page_path = SERVICE_PAGES[kind]
        resp = await self.get(kind, self.url(api_path if api else page_path))
        if resp is None or not self.published(kind, resp):
            return
        try:
            if api and not looks_like_json(resp.content):
                raise ParseError("not JSON")
            if kind == "pemerintah":
                officials = (parse_pemerintah_json if api else parse_pemerintah_html)(resp.content)
                count = officials.count
                if officials.present is not None:
                    self.metrics["officials_present"] = float(officials.present)
            elif api:
                count = parse_jsonapi_count(resp.content)
            elif kind == "lapak":
                count = parse_lapak_html(resp.content)
            elif kind == "pembangunan":
                count = parse_pembangunan_html(resp.content, self.base)
            else:
                count = parse_pengaduan_html(resp.content)
        except ParseError as e:
            self.note(f"{kind}: {e}")
            return
        self.services.append(ServiceObservation(kind, True, count, url=link or self.url(page_path)))

    async def statistik(self, link: str | None, api: bool) -> int | None:
        """Record the statistik pages (linked from the menu, else not published) with the
        residents they count: a fresh install's pages exist but count nobody. Releases with
        the JSON API render those pages in the browser: there the link alone is recorded."""
        if link is None or api:
            self.services.append(ServiceObservation("statistik", link is not None, url=link))
            return None
        resp = await self.get("statistik", link)
        # A theme may link a statistik page the menu left out: real 2410 natra does, and
        # the page answers 404 (not published), not an entry point.
        if resp is None or not self.published("statistik", resp):
            return None
        residents = parse_statistik_total(resp.content)
        self.services.append(ServiceObservation("statistik", True, residents, url=link))
        return residents

    async def layanan_mandiri(
        self, link: str | None, version: str | None, residents: int | None = None
    ) -> str | None:
        """Record the citizen self-service entry point; returns the release, maybe learnt.
        Residents sign in with their NIK and PIN: with no resident recorded (statistik counts
        nobody) the service exists but nobody can use it, so it counts as empty."""
        count = 0 if residents == 0 else None
        if link is not None:
            self.services.append(ServiceObservation("layanan_mandiri", True, count, url=link))
            return version
        resp = await self.get("layanan_mandiri", self.url("layanan-mandiri/masuk"))
        if resp is None or not self.published("layanan_mandiri", resp):
            return version
        # A disabled module redirects elsewhere (usually the home page).
        available = "layanan-mandiri" in resp.url
        self.services.append(
            ServiceObservation(
                "layanan_mandiri", available, count if available else None, url=resp.url
            )
        )
        if available and version is None and (found := detect_page(resp.content)):
            version = found.version  # its footer shows the release too
        return version


class OpenSIDConnector:
    """Reads an OpenSID village site: news, services and visitor counts."""

    name = "opensid"

    async def collect(self, village: VillageForPoll, http: HttpGetter) -> Harvest:
        # Only the home page and the feed are required; every other endpoint is optional.
        now = datetime.now(UTC)
        if steady(village, now):
            try:
                return await _Poll(village, http, None, now).run()
            except FetchError as e:
                if e.status_code is None:
                    raise  # the site does not answer: a failure, re-planned next poll
            except ParseError:
                pass
            # The feed moved or broke: read the home page and find it again.
        home = require_ok(await http.get(village.url, conditional=False))
        return await _Poll(village, http, home, now).run()
