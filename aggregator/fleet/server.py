"""The Fleet: one loopback HTTP server per simulated village site, with switchable behaviours."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from . import district
from .content import default_body, generate_articles, opensid_version, slugify, unique_slug
from .httpd import MAX_LINE, BadRequest, Request, Response, head_bytes, read_request, reason
from .model import BEHAVIOURS, UNREACHABLE, Article, RequestRecord, SimVillage
from .render import simple_page
from .site import Site

logger = logging.getLogger(__name__)

# Every `HOSTILE_EVERY`-th village with articles gets a hostile body, offset ones a tricky title.
HOSTILE_EVERY = 10
TRICKY_OFFSET = 3
SLOW_CHUNKS = 20


def _check_behaviour(behaviour: str) -> None:
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


class Fleet:
    """Simulated village web sites on loopback; deterministic given `seed` and `now`."""

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
    ) -> None:
        codes = [v.code for v in villages]
        if len(set(codes)) != len(codes):
            raise ValueError("village codes must be unique")
        for village in villages:
            _check_behaviour(village.behaviour)
        self._seed = seed
        self._now = (
            _aware(now, "now") if now is not None else datetime.now(UTC).replace(microsecond=0)
        )
        self._host = host
        self._hang_seconds = hang_seconds
        self._slow_seconds = slow_seconds
        self._idle_timeout = idle_timeout
        self._sites: dict[str, Site] = {}
        eligible = 0
        for village in villages:
            marked = village.behaviour in ("active", "quiet", "abandoned", "slow")
            slot = eligible % HOSTILE_EVERY if marked else -1
            eligible += marked
            articles = generate_articles(
                village, seed=seed, now=self._now, hostile=slot == 0, tricky=slot == TRICKY_OFFSET
            )
            version = opensid_version(seed, village.code)
            self._sites[village.code] = Site(village, articles, version, seed)
        self._servers: list[asyncio.Server] = []
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._running = False

    @classmethod
    def from_district(
        cls, n: int = 24, *, seed: int = 7, now: datetime | None = None, **kw: Any
    ) -> Fleet:
        """`n` Purbalingga villages spread over kecamatan, with the standard behaviour mix."""
        return cls(district.district_villages(n, seed), seed=seed, now=now, **kw)

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
        return self._running

    def _site(self, code: str) -> Site:
        try:
            return self._sites[code]
        except KeyError:
            raise KeyError(f"no village {code!r} in this fleet") from None

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
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{site.port}/"

    def requests(self, code: str) -> list[RequestRecord]:
        """Requests the site received so far (status 0: never answered)."""
        return list(self._site(code).log)

    def articles(self, code: str) -> list[Article]:
        """Articles the site publishes at `now`, newest first (its feed shows the first 50)."""
        return self._site(code).published(self._now)

    def opensid_version(self, code: str) -> str:
        """The OpenSID release the site claims, e.g. "2410" (footer "v24.10")."""
        return self._site(code).version

    # --- mutation ---------------------------------------------------------------------------

    def set_behaviour(self, code: str, behaviour: str) -> None:
        """Switch a site's behaviour; its articles are kept, the next request sees the change."""
        _check_behaviour(behaviour)
        site = self._site(code)
        site.village = replace(site.village, behaviour=behaviour)
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
        slug = unique_slug(slugify(title), {a.slug for a in site.articles})
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
        comment = f"Simulated fleet (aggregator.fleet): seed {self._seed}, now {self._now}"
        return district.render_config(
            entries,
            kabupaten_code=kabupaten_code,
            kabupaten_name=kabupaten_name,
            settings=merged,
            comment=comment,
        )

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind one listening socket (ephemeral port) per village."""
        if self._running:
            raise RuntimeError("the fleet is already started")
        self._running = True
        try:
            for site in self._sites.values():
                handler = functools.partial(self._handle, site)
                server = await asyncio.start_server(handler, self._host, 0, limit=2 * MAX_LINE)
                self._servers.append(server)
                site.bind(server.sockets[0].getsockname()[1])
        except BaseException:
            await self.stop()
            raise
        logger.info("fleet: %d sites listening on %s", len(self._servers), self._host)

    async def stop(self) -> None:
        """Close every server and every open connection, hanging ones included."""
        self._running = False
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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

    # --- connections ------------------------------------------------------------------------

    async def _handle(
        self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is None or not self._running or site.village.behaviour in UNREACHABLE:
            writer.transport.abort()
            return
        self._connections[task] = writer
        try:
            await self._serve(site, reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # stop() cancels connection tasks; ending normally keeps asyncio's stream callback
            # (which calls task.exception() on 3.11) from logging a spurious traceback.
            pass
        except Exception:
            logger.exception("fleet: %s: connection handler failed", site.village.code)
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _serve(
        self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                async with asyncio.timeout(self._idle_timeout):
                    request = await read_request(reader)
            except BadRequest as exc:
                site.log.append(RequestRecord(exc.method, exc.path, {}, exc.status))
                body = simple_page(f"{exc.status} {reason(exc.status)}").encode()
                writer.write(head_bytes(Response(exc.status, body), keep_alive=False) + body)
                await writer.drain()
                return
            if request is None:
                return
            behaviour = site.village.behaviour
            if behaviour in UNREACHABLE:
                return
            if behaviour == "hang":
                site.log.append(self._record(request, 0))
                await self._hang(reader)
                return
            response = site.respond(request, self._host, self._now)
            site.log.append(self._record(request, response.status))
            logger.debug(
                "fleet: %s %s %s -> %d",
                site.village.code,
                request.method,
                request.path,
                response.status,
            )
            keep = request.keep_alive and self._running
            head = head_bytes(response, keep_alive=keep)
            body = b"" if request.method == "HEAD" or response.status == 304 else response.body
            if behaviour == "slow":
                await self._drip(writer, head, body)
            else:
                writer.write(head + body)
                await writer.drain()
            if not keep:
                return

    @staticmethod
    def _record(request: Request, status: int) -> RequestRecord:
        return RequestRecord(
            request.method, request.path, dict(request.headers), status, request.query
        )

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        """Say nothing until the client leaves, the fleet stops or hang_seconds pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._hang_seconds):
                while await reader.read(65536):
                    pass

    async def _drip(self, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> None:
        """Send the head after a short pause, then the body in small chunks over slow_seconds."""
        pause = self._slow_seconds / (SLOW_CHUNKS + 1)
        await asyncio.sleep(pause)
        writer.write(head)
        await writer.drain()
        size = max(1, -(-len(body) // SLOW_CHUNKS))
        for start in range(0, len(body), size):
            await asyncio.sleep(pause)
            writer.write(body[start : start + size])
            await writer.drain()
