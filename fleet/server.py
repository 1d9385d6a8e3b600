"""The Fleet: one loopback HTTP server per simulated village site, with switchable behaviours
(content mixes, judi-online compromises and clean lookalikes, hostile and broken servers)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from . import district, tls
from .connections import Connections
from .content import default_body, generate_articles, slugify, unique_slug
from .httpd import MAX_LINE
from .kinds import DEFAULT_KIND, spec_of
from .misc_sites import HTML_RULES, HTML_RULES_NAME
from .model import BEHAVIOURS, FAULTS, TLS_FAULTS, Article, RequestRecord, SimVillage
from .site import Site
from .truth import GroundTruth

logger = logging.getLogger(__name__)

# Every `HOSTILE_EVERY`-th village with articles gets a hostile body, offset ones a tricky title.
HOSTILE_EVERY = 10
TRICKY_OFFSET = 3


def _check_behaviour(behaviour: str) -> None:
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


class Fleet(GroundTruth):
    """Simulated village web sites on loopback; deterministic given `seed` and `now`.

    `hang_seconds` bounds hang and drip, `slow_seconds` is how long a slow site takes to send a
    page, `drip_seconds` drip's pause per byte (tests shorten the last two)."""

    def __init__(
        self,
        villages: list[SimVillage],
        *,
        seed: int = 7,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        hang_seconds: float = 3600.0,
        slow_seconds: float = 2.0,
        idle_timeout: float = 15.0,
        drip_seconds: float = 1.0,
        history_days: float | None = None,
    ) -> None:
        """`history_days` sets how far back every posting site's archive goes (by default
        6 to 12 months, drawn per village)."""
        codes = [v.code for v in villages]
        if len(set(codes)) != len(codes):
            raise ValueError("village codes must be unique")
        for village in villages:
            _check_behaviour(village.behaviour)
            spec_of(village.kind)
        self._seed = seed
        self._now = (
            _aware(now, "now") if now is not None else datetime.now(UTC).replace(microsecond=0)
        )
        self._host = host
        self._connections = Connections(
            host,
            self._now,
            hang_seconds=hang_seconds,
            slow_seconds=slow_seconds,
            idle_timeout=idle_timeout,
            drip_seconds=drip_seconds,
        )
        self._sites: dict[str, Site] = {}
        eligible = 0
        for village in villages:
            marked = village.behaviour in ("active", "quiet", "abandoned", "slow")
            slot = eligible % HOSTILE_EVERY if marked else -1
            eligible += marked
            articles = generate_articles(
                village,
                seed=seed,
                now=self._now,
                hostile=slot == 0,
                tricky=slot == TRICKY_OFFSET,
                history_days=history_days,
            )
            self._sites[village.code] = Site(village, articles, seed, self._now)
        self._servers: list[asyncio.Server] = []

    @classmethod
    def from_district(
        cls,
        n: int = 24,
        *,
        seed: int = 7,
        now: datetime | None = None,
        faults: bool = False,
        **kw: Any,
    ) -> Fleet:
        """`n` Purbalingga villages spread over kecamatan, with the standard behaviour mix and,
        independently, the kind mix (all kinds from 24 villages on; see kinds.kind_mix). From
        30 villages on a few are compromised (judol patterns) and two are clean lookalikes
        (district.integrity_mix). `faults` adds one more village per fault (FAULTS)."""
        villages = district.district_villages(n, seed)
        if faults:
            villages += district.fault_villages(FAULTS, exclude={v.code for v in villages})
        return cls(villages, seed=seed, now=now, **kw)

    @classmethod
    def faults(
        cls,
        *,
        seed: int = 7,
        now: datetime | None = None,
        faults: Sequence[str] = FAULTS,
        healthy: int = 2,
        kind: str = DEFAULT_KIND,
        **kw: Any,
    ) -> Fleet:
        """One village per fault (in order; see faults.EXPECTED_FAULT_PHASE), then `healthy`
        active ones, all of `kind` (OpenSID 24.10 by default, whose connector reads the feed
        that the XML faults break)."""
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        behaviours = [*faults, *["active"] * healthy]
        villages = district.fault_villages(behaviours, exclude=set(), kind=kind)
        return cls(villages, seed=seed, now=now, **kw)

    @classmethod
    def of_kinds(
        cls,
        kinds: Sequence[str],
        *,
        behaviour: str = "active",
        seed: int = 7,
        now: datetime | None = None,
        **kw: Any,
    ) -> Fleet:
        """One village per entry of `kinds` (in order), all with the same behaviour."""
        picked = district.spread(district.load_villages(), len(kinds))
        villages = [
            replace(v, behaviour=behaviour, kind=k) for v, k in zip(picked, kinds, strict=True)
        ]
        return cls(villages, seed=seed, now=now, **kw)

    # --- inspection -------------------------------------------------------------------------

    @property
    def villages(self) -> list[SimVillage]:
        """The villages with their current behaviour, in construction order."""
        return [site.village for site in self._sites.values()]

    @property
    def now(self) -> datetime:
        """The simulated clock: articles after it are not published, Date headers use it."""
        return self._now

    @property
    def running(self) -> bool:
        """Whether the servers are listening."""
        return self._connections.running

    def url(self, code: str) -> str:
        """The site url as a district config would list it ("" for no_site)."""
        site = self._site(code)
        village = site.village
        if village.behaviour == "no_site":
            return ""
        if village.behaviour == "unresolvable":
            return f"http://{slugify(village.name)}-{slugify(village.kecamatan_name)}.desa.invalid/"
        if site.port is None:
            raise RuntimeError("the fleet is not started; call start() first")
        return site.info(self._host).base + "/"

    def requests(self, code: str) -> list[RequestRecord]:
        """Requests the site received so far (status 0: never answered)."""
        return list(self._site(code).log)

    def visits(self, code: str) -> int:
        """New sessions the site counted as visitors ("Hari ini" grows by this; OpenSID only)."""
        return self._site(code).counter.visits

    def reads(self, code: str) -> dict[str, int]:
        """Article reads the site counted, by slug (once per session, robots excluded)."""
        return dict(self._site(code).counter.reads)

    def articles(self, code: str) -> list[Article]:
        """Articles the site publishes at `now`, newest first (its feed shows the first 50)."""
        return self._site(code).published(self._now)

    def opensid_version(self, code: str) -> str:
        """The OpenSID release the site claims, e.g. "2410" (feed "24.10"); "" if not OpenSID."""
        return self._site(code).version

    def article_url(self, code: str, article: Article) -> str:
        """The article's url as the site links it in its feed and lists (needs start())."""
        site = self._site(code)
        if site.port is None:
            raise RuntimeError("the fleet is not started; call start() first")
        return site.info(self._host).article_url(article)

    # --- mutation ---------------------------------------------------------------------------

    def set_behaviour(self, code: str, behaviour: str) -> None:
        """Switch a site's behaviour; its articles are kept, the next request sees the change."""
        _check_behaviour(behaviour)
        if behaviour in TLS_FAULTS:
            tls.authority()  # fail here, not in a connection handler, without trustme
        self._site(code).behave(behaviour)
        logger.info("fleet: %s now behaves %s", code, behaviour)

    def add_article(
        self,
        code: str,
        title: str,
        published_at: datetime,
        body_html: str | None = None,
        category: str = "Berita Desa",
    ) -> Article:
        """Publish a new article (visible once `published_at <= now`); returns it."""
        site = self._site(code)
        _aware(published_at, "published_at")
        slug = unique_slug(slugify(title), {a.slug for a in site.all_articles()})
        new_id = max((a.id for a in site.articles), default=0) + 1
        body = default_body(title, site.village) if body_html is None else body_html
        image = f"sedang_{new_id}_{slug[:24].rstrip('-')}.jpg"
        article = Article(new_id, title, slug, published_at, category, body, image)
        site.add(article)
        return article

    def config_yaml(
        self,
        *,
        kabupaten_code: str = "33.03",
        kabupaten_name: str = "Purbalingga",
        settings: dict[str, object] | None = None,
    ) -> str:
        """districts.yaml text for this fleet (allow_private_addresses: true unless overridden)."""
        merged: dict[str, object] = {"allow_private_addresses": True, **(settings or {})}
        entries = [(site.village, self.url(code)) for code, site in self._sites.items()]
        comment = f"Simulated fleet (fleet): seed {self._seed}, now {self._now}"
        # html-only sites have no feed: the config carries the rules to scrape their list.
        rules_of = {c: HTML_RULES_NAME for c, s in self._sites.items() if s.spec.platform == "html"}
        return district.render_config(
            entries,
            kabupaten_code=kabupaten_code,
            kabupaten_name=kabupaten_name,
            settings=merged,
            comment=comment,
            html_rules={HTML_RULES_NAME: HTML_RULES} if rules_of else None,
            rules_of=rules_of,
        )

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind one listening socket (ephemeral port) per village."""
        if self._connections.running:
            raise RuntimeError("the fleet is already started")
        if any(site.village.behaviour in TLS_FAULTS for site in self._sites.values()):
            tls.authority()  # make the certificates (and fail without trustme) before listening
        self._connections.running = True
        try:
            for site in self._sites.values():
                handler = functools.partial(self._connections.handle, site)
                server = await asyncio.start_server(handler, self._host, 0, limit=2 * MAX_LINE)
                self._servers.append(server)
                site.bind(server.sockets[0].getsockname()[1])
        except BaseException:
            await self.stop()
            raise
        logger.info("fleet: %d sites listening on %s", len(self._servers), self._host)

    async def stop(self) -> None:
        """Close every server and every open connection, hanging ones included."""
        self._connections.running = False
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        await self._connections.close_all()
        for server in servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        for site in self._sites.values():
            site.bind(None)
        if servers:
            logger.info("fleet: stopped %d sites", len(servers))

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
