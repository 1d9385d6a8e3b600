"""httpcore's network streams on asyncio's own streams, for the fetcher's GuardedBackend.

httpcore's default backend goes through anyio: each read and write opens a cancel scope, and
each check of an idle connection builds anyio's table of socket attributes. Measured on a
poll pass that was a third of the HTTP client's CPU; here a read is `StreamReader.read`
under `asyncio.timeout`. Errors are httpcore's, as its own backends raise them (httpx maps
them to ConnectError, ReadTimeout...); an idle connection the server closed is seen the way
httpcore's backends see it, by polling its socket.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
from httpcore._utils import is_socket_readable


class AsyncioStream(httpcore.AsyncNetworkStream):
    __slots__ = ("_reader", "_writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as e:
            raise httpcore.ReadTimeout(e) from e
        except (OSError, RuntimeError) as e:  # reset, or read on a closed transport
            raise httpcore.ReadError(e) from e

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError as e:
            raise httpcore.WriteTimeout(e) from e
        except (OSError, RuntimeError) as e:
            raise httpcore.WriteError(e) from e

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as e:
            self._writer.close()
            raise httpcore.ConnectTimeout(e) from e
        except (ssl.SSLError, OSError, RuntimeError) as e:
            self._writer.close()
            raise httpcore.ConnectError(e) from e
        return self  # the same reader and writer, now over TLS

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":  # an idle connection with something to read is done
            if self._reader.at_eof() or self._writer.is_closing():
                return True
            return is_socket_readable(self._writer.get_extra_info("socket"))
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except TimeoutError as e:
            raise httpcore.ConnectTimeout(e) from e
        except OSError as e:
            raise httpcore.ConnectError(e) from e
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
