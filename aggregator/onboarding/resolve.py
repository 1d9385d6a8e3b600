"""Name resolution for `discover`, replaceable: the system resolver (refusing non-public
addresses, as the poller does) or a fixed table, so tests can point guessed `*.desa.id`
names at loopback servers without any DNS.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpcore
import httpx

from aggregator.errors import AggregatorError
from aggregator.fetch.client import connect_first, is_public_address
from aggregator.fetch.streams import AsyncioBackend


class ResolveError(AggregatorError):
    """A host name has no usable address (unknown, or refused as non-public)."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[tuple[str, int]]:
        """(address, port) pairs to try for host:port, in order; ResolveError if none."""
        ...


class SystemResolver:
    """getaddrinfo with a deadline; private, loopback and link-local answers are refused
    unless allowed, because a guessed name must not make us probe the local network."""

    def __init__(self, *, allow_private: bool = False, timeout: float = 10.0) -> None:
        self.allow_private = allow_private
        self.timeout = timeout

    async def resolve(self, host: str, port: int) -> list[tuple[str, int]]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as e:
            raise ResolveError(f"resolving {host} took longer than {self.timeout:g}s") from e
        except (OSError, UnicodeError) as e:
            raise ResolveError(f"cannot resolve {host}: {e}") from e
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.allow_private:
            refused = [a for a in addresses if not is_public_address(a)]
            if refused:
                raise ResolveError(f"{host} resolves to non-public address {refused[0]}")
        if not addresses:
            raise ResolveError(f"cannot resolve {host}: no addresses")
        return [(a, port) for a in addresses]


def _split(text: str, default_port: int | None) -> tuple[str, int | None]:
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and "]" not in port:
        return host.strip("[]").lower(), int(port)
    return text.strip("[]").lower(), default_port


class StaticResolver:
    """A fixed table: "host:port" (or "host", any port) -> "address:port" (or "address",
    same port). Names not in the table do not resolve; nothing is looked up elsewhere."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table: dict[tuple[str, int | None], tuple[str, int | None]] = {}
        for name, target in table.items():
            self._table[_split(name, None)] = _split(target, None)

    @classmethod
    def from_urls(cls, mapping: Mapping[str, str]) -> StaticResolver:
        """From url pairs: {"http://bokol.desa.id/": "http://127.0.0.1:41234/"} sends the
        first url's host and port to the second's address and port."""
        table = {}
        for name, target in mapping.items():
            a, b = urlsplit(name), urlsplit(target)
            a_port = a.port or (443 if a.scheme == "https" else 80)
            b_port = b.port or (443 if b.scheme == "https" else 80)
            table[f"{a.hostname}:{a_port}"] = f"{b.hostname}:{b_port}"
        return cls(table)

    async def resolve(self, host: str, port: int) -> list[tuple[str, int]]:
        key = host.lower()
        target = self._table.get((key, port)) or self._table.get((key, None))
        if target is None:
            raise ResolveError(f"cannot resolve {host}: not in the resolver table")
        address, target_port = target
        return [(address, target_port or port)]


class ResolvingBackend(httpcore.AsyncNetworkBackend):
    """Connects where the resolver says; TLS still uses (and verifies) the requested name."""

    def __init__(self, resolver: Resolver) -> None:
        self._inner = AsyncioBackend()
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            targets = await self._resolver.resolve(host, port)
        except ResolveError as e:
            raise httpcore.ConnectError(str(e)) from e
        return await connect_first(self._inner, targets, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def make_transport(resolver: Resolver, *, max_connections: int) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx has no hook for the network backend; swap its pool as aggregator.fetch.client does.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=5.0,
        network_backend=ResolvingBackend(resolver),
    )
    return transport
