"""fetch limits on real loopback sockets: deadline, body cap, redirects, private targets,
conditional GET, User-Agent, one request at a time per host."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest

from aggregator.errors import FetchError
from aggregator.fetch.client import USER_AGENT, Fetcher, is_public_address
from aggregator.settings import Settings
from tests.conftest import RawServer, response

LOOP = Settings(allow_private_addresses=True, request_timeout=1.0, connect_timeout=1.0)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _get(settings: Settings, url: str, **kw: object):  # type: ignore[no-untyped-def]
    async with Fetcher(settings, **kw) as f:  # type: ignore[arg-type]
        return await f.get(url)


def test_total_deadline_beats_a_server_that_drips_bytes() -> None:
    async def drip(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
        for _ in range(100):  # one byte every 0.1 s never trips httpx's inactivity timeout
            w.write(b"x")
            await w.drain()
            await asyncio.sleep(0.1)

    async def main() -> None:
        async with RawServer(drip) as srv:
            started = time.monotonic()
            with pytest.raises(FetchError) as info:
                await _get(LOOP, srv.url + "/")
            assert time.monotonic() - started < 3  # the 1 s deadline, not the 10 s drip
            assert (info.value.phase, info.value.message) == (
                "http",
                "response not complete within 1s",
            )

    run(main())


def test_server_that_never_answers() -> None:
    async def hang(method, path, headers, w):  # type: ignore[no-untyped-def]
        await asyncio.sleep(30)

    async def main() -> None:
        async with RawServer(hang) as srv:
            with pytest.raises(FetchError) as info:
                await _get(LOOP, srv.url + "/")
            assert info.value.phase == "http" and "no response" in info.value.message

    run(main())


@pytest.mark.parametrize("mode", ["declared", "chunked", "gzip"])
def test_body_cap_applies_after_decompression(mode: str) -> None:
    cap = 10_000
    big = b"judi " * 100_000  # 500 kB, compresses to ~1 kB

    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        if mode == "declared":
            w.write(response(200, big))
        elif mode == "gzip":
            w.write(response(200, gzip.compress(big), {"content-encoding": "gzip"}))
        else:
            w.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for i in range(0, len(big), 4096):
                chunk = big[i : i + 4096]
                w.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            w.write(b"0\r\n\r\n")

    async def main() -> None:
        async with RawServer(serve) as srv:
            settings = Settings(allow_private_addresses=True, max_body_bytes=cap)
            with pytest.raises(FetchError) as info:
                await _get(settings, srv.url + "/")
            assert info.value.phase == "http"
            assert f"{cap}-byte cap" in info.value.message
            if mode == "gzip":
                assert "after decompression" in info.value.message

    run(main())


def _deflate(data: bytes, raw: bool = False) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


PAGE = "<p>Musyawarah desa: ringkasan é — hasil rapat</p>".encode() * 50
ENCODED = {  # Content-Encoding: (body sent, what get() gives back)
    "gzip": (gzip.compress(PAGE), PAGE),
    "deflate": (_deflate(PAGE), PAGE),  # zlib-wrapped, as the RFC says
    "Deflate ": (_deflate(PAGE, raw=True), PAGE),  # raw, as some servers send it
    "deflate, gzip": (gzip.compress(_deflate(PAGE)), PAGE),  # applied in that order
    "br": (b"\x8b\x03\x80brotli bytes", b"\x8b\x03\x80brotli bytes"),  # not asked for: as sent
    "identity": (PAGE, PAGE),
}


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_bodies_are_decoded_as_their_content_encoding_says(encoding: str) -> None:
    """What httpx's decoders gave: gzip and deflate (zlib-wrapped or raw, stacked) decoded,
    an encoding we did not ask for passed on as sent; repeated headers joined by ", "."""
    sent, expected = ENCODED[encoding]
    seen: dict[str, str] = {}

    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        seen.update(headers)
        extra = {"content-encoding": encoding, "x-a": "1"}
        w.write(response(200, sent, extra).replace(b"\r\n\r\n", b"\r\nX-A: 2\r\n\r\n", 1))

    async def main() -> None:
        async with RawServer(serve) as srv:
            got = await _get(LOOP, srv.url + "/p?q=1")
            assert got.content == expected and got.status_code == 200
            assert got.headers["x-a"] == "1, 2" and got.url == srv.url + "/p?q=1"
            assert seen["accept-encoding"] == "gzip, deflate" and seen["user-agent"] == USER_AGENT

    run(main())


def test_a_body_its_encoding_cannot_decode_is_a_clear_error() -> None:
    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(200, b"this is not gzip at all", {"content-encoding": "gzip"}))

    async def main() -> None:
        async with RawServer(serve) as srv:
            with pytest.raises(FetchError) as info:
                await _get(LOOP, srv.url + "/")
            assert info.value.phase == "http"
            assert info.value.message.startswith("cannot decode response body:")

    run(main())


def _redirector(hops: int):  # type: ignore[no-untyped-def]
    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        n = int(path.strip("/") or 0)
        if n < hops:
            w.write(response(302, b"", {"location": f"/{n + 1}"}))
        else:
            w.write(response(200, b"arrived"))

    return serve


def test_five_redirects_are_followed_six_are_refused() -> None:
    async def main() -> None:
        async with RawServer(_redirector(5)) as srv:
            resp = await _get(LOOP, srv.url + "/0")
            assert resp.content == b"arrived" and resp.url.endswith("/5")
        async with RawServer(_redirector(6)) as srv:
            with pytest.raises(FetchError, match="more than 5 redirects"):
                await _get(LOOP, srv.url + "/0")

    run(main())


def test_private_targets_refused_also_after_a_redirect() -> None:
    async def main() -> None:
        async with RawServer(_redirector(0)) as target:
            port = target.url.rsplit(":", 1)[1]

            async def to_private(method, path, headers, w):  # type: ignore[no-untyped-def]
                # 127.0.0.2 is loopback too, so the target server answers there.
                w.write(response(301, b"", {"location": f"http://127.0.0.2:{port}/"}))

            async with RawServer(to_private) as start:
                strict = Settings(allow_private_addresses=False, request_timeout=2)

                # Treat 127.0.0.1 as "public" for this test; 127.0.0.2 stays private.
                def policy(a: str) -> bool:
                    return a == "127.0.0.1"

                with pytest.raises(FetchError) as info:
                    await _get(strict, start.url + "/", address_policy=policy)
                assert info.value.phase == "blocked" and "127.0.0.2" in info.value.message
                assert len(start.requests) == 1 and target.requests == []
                with pytest.raises(FetchError) as info:
                    await _get(strict, start.url + "/")  # the real policy: loopback refused
                assert info.value.phase == "blocked"

    run(main())


def test_address_policy() -> None:
    for private in ("127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254",
                    "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                    "224.0.0.1"):  # fmt: skip
        assert not is_public_address(private), private
    for public in ("103.3.60.1", "8.8.8.8", "2001:4860:4860::8888"):
        assert is_public_address(public), public


def test_dns_and_connect_failures_are_classified() -> None:
    async def main() -> None:
        with pytest.raises(FetchError) as info:
            await _get(LOOP, "http://tidak-ada.desa.invalid/")
        assert info.value.phase == "dns"
        with pytest.raises(FetchError) as info:
            await _get(LOOP, "http://127.0.0.1:9/")  # discard port: nothing listens
        assert info.value.phase == "connect"

    run(main())


def test_conditional_get_and_user_agent() -> None:
    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        if headers.get("if-none-match") == '"v1"':
            w.write(response(304))
        else:
            w.write(
                response(
                    200,
                    b"<rss/>",
                    {"etag": '"v1"', "last-modified": "Sat, 28 Nov 2026 00:00:00 GMT"},
                )
            )

    async def main() -> None:
        async with RawServer(serve) as srv, Fetcher(LOOP) as f:
            first = await f.get(srv.url + "/feed")
            assert first.status_code == 200 and first.headers["etag"] == '"v1"'
            again = await f.get(
                srv.url + "/feed", etag='"v1"', last_modified=first.headers["last-modified"]
            )
            assert again.not_modified and again.content == b""
            sent = srv.requests[-1][2]
            assert sent["if-none-match"] == '"v1"'
            assert sent["if-modified-since"] == "Sat, 28 Nov 2026 00:00:00 GMT"
            assert sent["user-agent"] == USER_AGENT and USER_AGENT.startswith("Sipande/")

    run(main())


def test_one_request_at_a_time_per_host() -> None:
    active = 0
    peak = 0

    async def slow(method, path, headers, w):  # type: ignore[no-untyped-def]
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.1)
        active -= 1
        w.write(response(200, b"ok"))

    async def main() -> None:
        async with RawServer(slow) as srv, Fetcher(LOOP) as f:
            results = await asyncio.gather(*(f.get(f"{srv.url}/{i}") for i in range(4)))
            assert [r.status_code for r in results] == [200] * 4
            # Nobody holds or waits for the host's turn any more: its lock is gone (a pass
            # over thousands of sites keeps no lock per site).
            assert f._host_locks == {}
            with pytest.raises(FetchError):
                await f.get("http://127.0.0.1:1/")  # a failure gives its turn back too
            assert f._host_locks == {}

    run(main())
    assert peak == 1


def test_static_host_table_names_loopback_sites() -> None:
    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(200, headers["host"].encode()))

    async def main() -> None:
        async with RawServer(serve) as srv:
            port = srv.url.rsplit(":", 1)[1]
            hosts = {"kedungbenda.desa.id": "127.0.0.1"}
            async with Fetcher(LOOP, hosts=hosts) as f:
                resp = await f.get(f"http://kedungbenda.desa.id:{port}/")
            assert resp.content == f"kedungbenda.desa.id:{port}".encode()

    run(main())


def test_a_pool_per_host_keeps_alive_within_a_host_and_closes_old_hosts() -> None:
    """Requests to one host reuse its connection; with many hosts only the most recently
    used idle pools stay open (a shared pool made each request scan every connection)."""
    from aggregator.fetch.client import IDLE_POOLS, HostPools

    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while await reader.readline():
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                writer.write(response(200, b"ok"))
                await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        names = [f"desa{i}.example" for i in range(IDLE_POOLS + 40)]
        async with Fetcher(LOOP, hosts=dict.fromkeys(names, "127.0.0.1")) as f:
            for _ in range(3):
                assert (await f.get(f"http://{names[0]}:{port}/")).content == b"ok"
            assert connections == 1  # kept alive between the requests of one host
            await asyncio.gather(*(f.get(f"http://{n}:{port}/") for n in names[1:-1]))
            pools = f._client._transport._pool  # type: ignore[attr-defined]
            assert isinstance(pools, HostPools)
            assert pools.pools > IDLE_POOLS + 1  # they were busy at once: none closed then
            await f.get(f"http://{names[-1]}:{port}/")  # a new host: the oldest idle go
            assert pools.pools <= IDLE_POOLS + 1 < len(names)
            assert connections == len(names)
        server.close()
        await server.wait_closed()

    run(main())


def test_a_site_session_cookie_is_sent_back_to_that_site_only() -> None:
    """One session per site: its cookie goes back to it (OpenSID then counts one visit),
    never to another host, and httpx's own unbounded jar stays empty."""

    async def serve(method, path, headers, w):  # type: ignore[no-untyped-def]
        if path == "/logout":
            w.write(response(200, b"ok", {"set-cookie": "ci_session=; Max-Age=0; path=/"}))
        else:
            w.write(response(200, b"ok", {"set-cookie": "ci_session=abc123; path=/; HttpOnly"}))

    async def other(method, path, headers, w):  # type: ignore[no-untyped-def]
        w.write(response(200, b"ok"))

    async def main() -> None:
        async with RawServer(serve) as srv, RawServer(other) as srv2, Fetcher(LOOP) as f:
            await f.get(srv.url + "/")
            await f.get(srv.url + "/again")
            assert "cookie" not in srv.requests[0][2]
            assert srv.requests[1][2]["cookie"] == "ci_session=abc123"
            # Another host (same address, other name) never sees it.
            await f.get(srv2.url.replace("127.0.0.1", "localhost") + "/")
            assert "cookie" not in srv2.requests[0][2]
            await f.get(srv.url + "/logout")  # a deletion is honoured
            await f.get(srv.url + "/after")
            assert "cookie" not in srv.requests[3][2]
            assert len(f._client.cookies.jar) == 0

    run(main())
