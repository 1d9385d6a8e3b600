"""The one HTTP client of every poll: limits, caps, politeness and conditional GET.

httpx only has inactivity timeouts and no body cap, redirect guard or per-host limit, so
those are ours (docs/design.md): a total deadline per request, a cap counted on the
decompressed body, at most 5 redirects each re-checked, refusal of private targets at
connect time (so DNS rebinding can't slip past), and one request at a time per host
(per origin, host:port; time spent waiting for a host's turn is not held against the deadline).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from http.cookiejar import DefaultCookiePolicy
from itertools import islice
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from aggregator import __version__
from aggregator.errors import FetchError
from aggregator.fetch.cookies import SiteJar
from aggregator.fetch.exchange import (
    DecodingError,
    capped,
    opened,
    read_capped,
    request_headers,
    response_headers,
)
from aggregator.fetch.streams import AsyncioBackend
from aggregator.settings import Settings
from aggregator.types import FetchResponse

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/sipande/sipande"
USER_AGENT = f"Sipande/{__version__} (+{PROJECT_URL})"
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}


class _DNSFailure(Exception):
    pass


class _Blocked(Exception):
    pass


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215, local use only
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated
_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and would reach (mapped, translated,
    compatible, NAT64, 6to4), else None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _TRANSLATED or ip in _COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses (not private, loopback, link-local...);
    an IPv6 address carrying an IPv4 one is judged by the IPv4 address."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


async def connect_first(
    backend: httpcore.AsyncNetworkBackend,
    targets: Sequence[tuple[str, int]],
    timeout: float | None,
    local_address: str | None,
    socket_options: Iterable[Any] | None,
) -> httpcore.AsyncNetworkStream:
    """A stream to the first of `targets` (address, port) that accepts the connection."""
    last: Exception = httpcore.ConnectError("no address to connect to")
    for address, port in targets:
        try:
            return await backend.connect_tcp(address, port, timeout, local_address, socket_options)
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
            last = e
    raise last


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves host names itself, refuses non-public addresses unless allowed, then connects
    to the checked address. TLS still verifies and sends SNI for the original host name."""

    def __init__(
        self,
        *,
        allow_private: bool,
        dns_timeout: float = 10.0,
        address_policy: Callable[[str], bool] = is_public_address,
        hosts: Mapping[str, str] | None = None,
    ) -> None:
        self._inner = AsyncioBackend()
        # A static host table consulted before DNS, like /etc/hosts: benchmarks and tests use
        # it to give thousands of simulated villages their own names on loopback.
        self._hosts = {k.lower(): v for k, v in (hosts or {}).items()}
        self._allow_private = allow_private
        self._dns_timeout = dns_timeout
        self._policy = address_policy

    async def _resolve(self, host: str, port: int) -> list[str]:
        if host.lower() in self._hosts:
            return [self._hosts[host.lower()]]
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._dns_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as e:
            raise _DNSFailure(f"resolving {host} took longer than {self._dns_timeout:g}s") from e
        except (socket.gaierror, UnicodeError) as e:
            raise _DNSFailure(f"cannot resolve {host}: {e}") from e
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise _DNSFailure(f"cannot resolve {host}: no addresses")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port)
        if not self._allow_private:
            refused = [a for a in addresses if not self._policy(a)]
            if refused:
                raise _Blocked(
                    f"{host} resolves to non-public address {refused[0]}; refused "
                    "(allow_private_addresses is off)"
                )
        targets = [(address, port) for address in addresses]
        return await connect_first(self._inner, targets, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


KEEPALIVE_SECONDS = 5.0
IDLE_POOLS = 64  # hosts whose idle connections are kept for a moment (their next request)


class HostPools(httpcore.AsyncConnectionPool):
    """One small connection pool per origin instead of one big shared pool.

    httpcore checks every connection of a pool on every request (a syscall for each idle
    one): with a pool shared by hundreds of village sites each request cost O(connections),
    a millisecond of CPU per request at 256 concurrent polls. A village's requests go to one
    host one at a time (the fetcher's per-host lock), so a pool per origin holds one or two
    connections; pools of hosts not asked for a while are closed, the least recently used
    first, keeping at most IDLE_POOLS idle ones.
    """

    def __init__(self, **pool_options: Any) -> None:
        super().__init__(max_connections=1)
        self._options = pool_options
        self._pools: OrderedDict[tuple[bytes, bytes, int], httpcore.AsyncConnectionPool] = (
            OrderedDict()
        )
        self._asking: Counter[tuple[bytes, bytes, int]] = Counter()

    @property
    def pools(self) -> int:
        return len(self._pools)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = request.url.origin
        key = (origin.scheme, origin.host, origin.port)
        pool = self._pools.get(key)
        created = pool is None
        if pool is None:
            pool = self._pools[key] = httpcore.AsyncConnectionPool(**self._options)
        else:
            self._pools.move_to_end(key)
        self._asking[key] += 1  # before any await: marks the pool busy for other closers
        try:
            if created:
                await self._close_idle()
            return await pool.handle_async_request(request)
        finally:
            self._asking[key] -= 1
            if not self._asking[key]:
                del self._asking[key]

    async def _close_idle(self) -> None:
        surplus = len(self._pools) - IDLE_POOLS
        # Oldest first, and only a few past the surplus: when the oldest are busy, the
        # pools stay above the bound a little longer rather than scanning all of them.
        for key in list(islice(self._pools, max(0, surplus) + 16)):
            if surplus <= 0:
                break
            pool = self._pools.get(key)  # another request may have closed it meanwhile
            if pool is None or key in self._asking:
                continue
            if not all(c.is_idle() for c in pool.connections):
                continue  # busy: a response body is being read
            del self._pools[key]
            surplus -= 1
            await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


def make_transport(
    settings: Settings,
    *,
    address_policy: Callable[[str], bool] = is_public_address,
    hosts: Mapping[str, str] | None = None,
) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx gives no hook for the network backend; swap the pool it built for ours.
    transport._pool = HostPools(
        ssl_context=httpx.create_ssl_context(),  # one context for every host
        max_connections=4,
        max_keepalive_connections=2,
        keepalive_expiry=KEEPALIVE_SECONDS,
        network_backend=GuardedBackend(
            allow_private=settings.allow_private_addresses,
            dns_timeout=settings.connect_timeout,
            address_policy=address_policy,
            hosts=hosts,
        ),
    )
    return transport


def _classify(exc: BaseException) -> tuple[str, str]:
    """Map an exception raised while fetching to (phase, message)."""
    if isinstance(exc, _DNSFailure):
        return "dns", str(exc)
    if isinstance(exc, _Blocked):
        return "blocked", str(exc)
    if isinstance(exc, httpx.ConnectTimeout | httpcore.ConnectTimeout):
        return "connect", "connection timed out"
    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError):
        text = str(exc) or type(exc).__name__
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError) or "SSL" in text or "CERTIFICATE" in text.upper():
            return "tls", text
        return "connect", text
    if isinstance(exc, httpx.TimeoutException | httpcore.TimeoutException):
        return "http", f"server stopped answering ({type(exc).__name__})"
    if isinstance(exc, httpx.DecodingError | DecodingError):
        return "http", f"cannot decode response body: {exc}"
    if isinstance(exc, httpx.HTTPError | httpcore.NetworkError | httpcore.ProtocolError):
        return "http", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return "http", f"{type(exc).__name__}: {exc}"


class _HostTurn:
    """A host's lock and how many requests hold or wait for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class Fetcher:
    """Shared by every poll of a process. Use `async with Fetcher(settings) as f`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncHTTPTransport | None = None,
        user_agent: str = USER_AGENT,
        address_policy: Callable[[str], bool] = is_public_address,
        hosts: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        transport = transport or make_transport(
            settings, address_policy=address_policy, hosts=hosts
        )
        self._headers = {
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": user_agent,
        }
        self._client = httpx.AsyncClient(  # POSTs (alert webhooks); GETs ask the pool itself
            transport=transport,
            timeout=httpx.Timeout(settings.request_timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            headers=self._headers,
        )
        self._pool: httpcore.AsyncConnectionPool = transport._pool
        rt = settings.request_timeout
        self._timeouts = {"connect": settings.connect_timeout, "read": rt, "write": rt, "pool": rt}
        # httpx's own jar stays off (it would grow without bound over thousands of sites);
        # `cookies` keeps each site's session, bounded, so a site counts us as one visitor.
        self._client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.cookies = SiteJar()
        self._host_locks: dict[str, _HostTurn] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def _turn(self, host: str) -> AsyncIterator[None]:
        """One request at a time per host. A host's lock lives while someone holds or
        waits for it: a pass over 10,000 villages keeps no 10,000 idle locks."""
        turn = self._host_locks.get(host)
        if turn is None:
            turn = self._host_locks[host] = _HostTurn()
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if not turn.users:
                del self._host_locks[host]

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> FetchResponse:
        """GET `url` within the total deadline; any HTTP status is returned, failures raise
        FetchError with the phase that failed. `headers` add to or replace ours (the integrity
        watch fetches as a browser and as a search crawler); without `follow_redirects` a 3xx
        is returned as it is, so an off-site redirect can be judged without being followed."""
        started = time.monotonic()
        deadline = self.settings.request_timeout
        spent = 0.0  # time spent talking to servers; waiting for a host's turn is not counted
        got_headers = False
        current = url
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                parts = urlsplit(current)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise FetchError("http", f"not an http(s) url: {current!r}", url=current)
                sent = {"Accept": accept or "*/*", **(headers or {})}
                if (cookie := self.cookies.header_for(current)) is not None:
                    sent.setdefault("Cookie", cookie)
                if etag:
                    sent["If-None-Match"] = etag
                if last_modified:
                    sent["If-Modified-Since"] = last_modified
                async with self._turn(parts.netloc.lower()):
                    hop_started = time.monotonic()
                    try:
                        target = httpx.URL(current)
                        wire = request_headers(target, self._headers, sent)
                        async with (
                            asyncio.timeout(deadline - spent),
                            opened(self._pool, target, wire, self._timeouts) as resp,
                        ):
                            got_headers = True
                            answered, cookies = response_headers(resp.headers)
                            self.cookies.learn(current, cookies)
                            status = resp.status
                            redirect = status in _REDIRECTS and "location" in answered
                            if redirect and follow_redirects:
                                current = urljoin(current, answered["location"])
                                etag = last_modified = None  # validators belong to the first url
                                continue
                            final = str(target)
                            cap = self.settings.max_body_bytes
                            body = (
                                b""
                                if status == 304
                                else await read_capped(resp, answered, cap, final)
                            )
                            return FetchResponse(
                                url=final,
                                status_code=status,
                                headers=answered,
                                content=body,
                                not_modified=status == 304,
                                elapsed_ms=int((time.monotonic() - started) * 1000),
                            )
                    finally:
                        spent += time.monotonic() - hop_started
            raise FetchError("http", f"more than {MAX_REDIRECTS} redirects", url=current)
        except FetchError:
            raise
        except TimeoutError as e:
            what = "response not complete" if got_headers else "no response"
            raise FetchError("http", f"{what} within {deadline:g}s", url=current) from e
        except Exception as e:
            phase, message = _classify(e)
            raise FetchError(phase, message, url=current) from e

    async def post_json(self, url: str, payload: object) -> FetchResponse:
        """POST `payload` as JSON (alert webhooks) under the same guard, deadline and body
        cap as `get`; a redirect is returned as it is, never followed."""
        started = time.monotonic()
        deadline = self.settings.request_timeout
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("http", f"not an http(s) url: {url!r}", url=url)
        try:
            async with (
                asyncio.timeout(deadline),
                self._client.stream("POST", url, json=payload, headers={"Accept": "*/*"}) as resp,
            ):
                # Decoded by httpx: the cap holds after decompression.
                cap = self.settings.max_body_bytes
                body = await capped(resp.aiter_bytes(), resp.headers, cap, str(resp.url))
                return FetchResponse(
                    url=str(resp.url),
                    status_code=resp.status_code,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    content=body,
                    elapsed_ms=int((time.monotonic() - started) * 1000),
                )
        except FetchError:
            raise
        except TimeoutError as e:
            raise FetchError("http", f"no complete response within {deadline:g}s", url=url) from e
        except Exception as e:
            phase, message = _classify(e)
            raise FetchError(phase, message, url=url) from e
