"""Serving the connections of every simulated site: keep-alive, hang, slow drip, TLS for the
tls_* faults, the wire-level faults, and ending them all promptly when the fleet stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from . import faults, tls
from .httpd import BadRequest, Request, Response, head_bytes, read_request, reason
from .model import TLS_FAULTS, UNREACHABLE, RequestRecord
from .render import simple_page
from .site import Site

logger = logging.getLogger(__name__)

SLOW_CHUNKS = 20


class Connections:
    """Open connections across all sites; the fleet's handler for every listening socket."""

    def __init__(
        self,
        host: str,
        now: datetime,
        *,
        hang_seconds: float,
        slow_seconds: float,
        idle_timeout: float,
        drip_seconds: float = 1.0,
    ) -> None:
        self.running = False
        self._host = host
        self._now = now
        self._hang_seconds = hang_seconds
        self._slow_seconds = slow_seconds
        self._idle_timeout = idle_timeout
        self._drip_seconds = drip_seconds
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}

    async def close_all(self) -> None:
        """Cancel every connection task, hanging ones included, and wait for them."""
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def handle(
        self, site: Site, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is None or not self.running or site.village.behaviour in UNREACHABLE:
            writer.transport.abort()
            return
        self._connections[task] = writer
        try:
            if site.village.behaviour in TLS_FAULTS and not await self._tls(site, writer):
                return
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
            if behaviour in faults.WIRE_FAULTS:
                site.log.append(self._record(request, faults.wire_status(behaviour)))
                limit, interval = self._hang_seconds, self._drip_seconds
                await faults.serve_wire(behaviour, request, writer, interval=interval, limit=limit)
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
            keep = request.keep_alive and self.running
            head = head_bytes(response, keep_alive=keep)
            body = b"" if request.method == "HEAD" or response.status == 304 else response.body
            if behaviour == "slow":
                await self._drip(writer, head, body)
            else:
                writer.write(head + body)
                await writer.drain()
            if not keep:
                return

    async def _tls(self, site: Site, writer: asyncio.StreamWriter) -> bool:
        """Upgrade to TLS with the fault's certificate; False when the handshake fails (the
        client refusing the certificate is the point of these sites)."""
        context = tls.server_context(site.village.behaviour)
        try:
            async with asyncio.timeout(self._idle_timeout):
                await writer.start_tls(context)
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            logger.debug("fleet: %s: TLS handshake failed: %s", site.village.code, exc)
            return False
        return True

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
