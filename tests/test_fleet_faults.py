"""The fault fleet over real loopback sockets: each hostile or broken server serves
what it claims, and none makes a test wait longer than a short client timeout."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import struct
import time
import tracemalloc
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from fleet import (
    ACCEPTABLE_FAULT_OUTCOMES,
    BEHAVIOURS,
    EXPECTED_FAULT_PHASE,
    FAULTS,
    Fleet,
    corrupt,
    faults,
)
from fleet.tls import WRONG_NAME

NOW = datetime(2026, 9, 7, 3, 0, tzinfo=UTC)
FEED = "index.php/feed"
TLS = ssl.create_default_context()  # certifi/system store: the fleet CA is not in it


def by_fault(fleet: Fleet) -> dict[str, str]:
    return {f: v.code for v in fleet.villages if (f := fleet.fault(v.code))}


def run(body: Callable[[Fleet, dict[str, str], httpx.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        fleet = Fleet.faults(seed=3, now=NOW, drip_seconds=0.05, hang_seconds=5)
        async with fleet, httpx.AsyncClient(timeout=2, verify=TLS) as client:
            await body(fleet, by_fault(fleet), client)

    asyncio.run(main())


def test_fault_fleet_and_ground_truth() -> None:
    fleet = Fleet.faults(seed=3, now=NOW)
    assert [fleet.fault(v.code) for v in fleet.villages] == [*FAULTS, None, None]
    assert [v.behaviour for v in fleet.villages[-2:]] == ["active", "active"]
    assert set(FAULTS) <= set(BEHAVIOURS) and len({v.code for v in fleet.villages}) == 19
    assert set(EXPECTED_FAULT_PHASE) == set(ACCEPTABLE_FAULT_OUTCOMES) == set(FAULTS)
    for fault, phase in EXPECTED_FAULT_PHASE.items():
        assert phase in ACCEPTABLE_FAULT_OUTCOMES[fault]
    assert EXPECTED_FAULT_PHASE["tls_expired"] == "tls" and EXPECTED_FAULT_PHASE["hang"] == "http"
    assert ACCEPTABLE_FAULT_OUTCOMES["xxe"] == {"parse", None}
    assert {fleet.compromised(v.code) for v in fleet.villages} == {None}
    small = Fleet.faults(faults=["gzip_bomb"], healthy=0, kind="wordpress")
    assert [(v.behaviour, v.kind) for v in small.villages] == [("gzip_bomb", "wordpress")]
    with pytest.raises(ValueError):
        Fleet.faults(faults=["judol_head"])


def test_drip_reset_and_ratelimit() -> None:
    async def body(fleet: Fleet, codes: dict[str, str], client: httpx.AsyncClient) -> None:
        # drip: every byte comes well within httpx's inactivity timeout, so only a total
        # deadline ends it.
        got = b""
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            async with (
                asyncio.timeout(0.6),
                client.stream("GET", fleet.url(codes["drip"]) + FEED) as r,
            ):
                assert r.headers["content-length"] == str(faults.DRIP_DECLARED)
                async for chunk in r.aiter_raw():
                    got += chunk
        assert time.perf_counter() - started < 1.0
        assert 3 <= len(got) <= 20 and got.startswith(b"<?xml")
        # reset: the request is read, then a TCP RST instead of an answer
        with pytest.raises(httpx.ReadError):
            await client.get(fleet.url(codes["reset"]))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", int(fleet.url(codes["reset"]).rsplit(":", 1)[1].strip("/"))
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(), 2)
        writer.close()
        assert [r.status for r in fleet.requests(codes["reset"])] == [0, 0]
        for path in ("", FEED):
            limited = await client.get(fleet.url(codes["ratelimit_429"]) + path)
            assert limited.status_code == 429 and limited.headers["retry-after"] == "3600"

    run(body)


def test_huge_body_streams_60_mib_without_building_it() -> None:
    async def body(fleet: Fleet, codes: dict[str, str], client: httpx.AsyncClient) -> None:
        tracemalloc.start()
        try:
            total = 0
            async with client.stream("GET", fleet.url(codes["huge_body"]) + FEED) as r:
                assert "content-length" not in r.headers
                assert r.headers["transfer-encoding"] == "chunked"
                async for chunk in r.aiter_raw():
                    total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == faults.HUGE_BODY_BYTES == 60 * 1024 * 1024
        assert peak < 8 * 1024 * 1024  # neither side held the body

    run(body)


def test_gzip_bomb_is_small_on_the_wire() -> None:
    async def body(fleet: Fleet, codes: dict[str, str], client: httpx.AsyncClient) -> None:
        async with client.stream("GET", fleet.url(codes["gzip_bomb"]) + FEED) as r:
            assert r.headers["content-encoding"] == "gzip"
            raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert len(raw) == int(r.headers["content-length"]) < 1_100_000
        assert struct.unpack("<I", raw[-4:])[0] == 1 << 30  # ISIZE: 1 GiB inflated
        inflate = zlib.decompressobj(31)
        first = inflate.decompress(raw, 16 << 20)
        assert first == bytes(16 << 20) and inflate.unconsumed_tail  # and far more to come

    run(body)
    assert gzip.decompress(faults.gzip_bomb(3)) == bytes(3 << 20)  # a well-formed member
    crc = 0
    for _ in range(64):
        crc = zlib.crc32(bytes(16 << 20), crc)
    assert faults.gzip_bomb().endswith(struct.pack("<II", crc, 1 << 30))


def test_redirect_loop_and_private_targets() -> None:
    async def body(fleet: Fleet, codes: dict[str, str], client: httpx.AsyncClient) -> None:
        with pytest.raises(httpx.TooManyRedirects):
            await client.get(fleet.url(codes["redirect_loop"]), follow_redirects=True)
        base = fleet.url(codes["redirect_private"])
        home = await client.get(base)
        assert home.status_code == 302
        assert home.headers["location"] == "http://169.254.169.254/latest/meta-data/"
        feed = await client.get(base + FEED)
        assert feed.headers["location"] == "http://10.0.0.1/" + FEED

    run(body)


def test_broken_and_hostile_feeds() -> None:
    async def body(fleet: Fleet, codes: dict[str, str], client: httpx.AsyncClient) -> None:
        def feed_of(fault: str) -> Awaitable[httpx.Response]:
            return client.get(fleet.url(codes[fault]) + FEED)

        for fault in ("malformed_xml", "xml_bomb", "xxe", "bad_encoding", "hostile_markup"):
            home = await client.get(fleet.url(codes[fault]))
            assert home.status_code == 200 and "</html>" in home.text  # only feeds break
        broken = (await feed_of("malformed_xml")).text
        with pytest.raises(ET.ParseError):
            ET.fromstring(broken)
        assert "Gotong Royong & Kerja Bakti <b>Warga</i>" in broken
        assert "</rss>" not in broken
        bomb = (await feed_of("xml_bomb")).text
        assert bomb.startswith('<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n')
        assert '<!ENTITY lol9 "&lol8;&lol8;' in bomb and len(bomb) < 200_000
        assert f"<title>{corrupt.BOMB_REFERENCE}</title>" in bomb
        xxe = (await feed_of("xxe")).text
        assert '<!ENTITY xxe SYSTEM "file:///etc/passwd">' in xxe
        assert f"<title>Data Warga {corrupt.XXE_REFERENCE}</title>" in xxe
        mislabelled = await feed_of("bad_encoding")
        assert mislabelled.headers["content-type"] == "text/xml; charset=UTF-8"
        with pytest.raises(UnicodeDecodeError):
            mislabelled.content.decode("utf-8")
        assert corrupt.INVALID_UTF8 in mislabelled.content
        assert " – Café" in mislabelled.content.decode("cp1252", errors="replace")
        hostile = ET.fromstring((await feed_of("hostile_markup")).content)
        titles = [item.findtext("title") or "" for item in hostile.iter("item")]
        assert '<script>alert("judul")</script>Pengumuman Jadwal Posyandu' in titles
        assert {t[0] for t in titles[:6]} >= {"=", "+", "-", "@"}
        bodies = " ".join(item.findtext("description") or "" for item in hostile.iter("item"))
        assert "&lt;script&gt;alert(&#x27;ringkasan" in bodies  # markup as text in a summary
        content = ET.tostring(hostile, encoding="unicode")
        assert "onerror=" in content and "javascript:alert" in content
        listing = (await client.get(fleet.url(codes["hostile_markup"]))).text
        assert "&lt;script&gt;alert(&quot;judul&quot;)" in listing  # the site itself escapes titles
        planted = fleet.planted_articles(codes["hostile_markup"])
        assert len(planted) == 6 and set(planted) <= set(fleet.articles(codes["hostile_markup"]))


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].strip("/"))


async def handshake(url: str, context: ssl.SSLContext) -> None:
    _, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port_of(url), ssl=context), 2
    )
    writer.close()


def test_tls_faults_fail_the_handshake_for_the_right_reason() -> None:
    async def body(fleet: Fleet, codes: dict[str, str], client: httpx.AsyncClient) -> None:
        expired, wrong = fleet.url(codes["tls_expired"]), fleet.url(codes["tls_wrong_name"])
        assert expired.startswith("https://127.0.0.1:") and wrong.startswith("https://127.0.0.1:")
        for url in (expired, wrong):  # as the poller sees them: an unknown issuer
            with pytest.raises(ssl.SSLCertVerificationError) as info:
                await handshake(url, TLS)
            assert info.value.verify_code == 20  # unable to get local issuer certificate
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(url)
        trusting = ssl.create_default_context()
        fleet.trust_tls(trusting)
        with pytest.raises(ssl.SSLCertVerificationError) as info:
            await handshake(expired, trusting)
        assert info.value.verify_code == 10 and "expired" in str(info.value)
        with pytest.raises(ssl.SSLCertVerificationError) as info:
            await handshake(wrong, trusting)
        assert info.value.verify_code == 64  # IP address mismatch
        by_name = ssl.create_default_context()
        fleet.trust_tls(by_name)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port_of(wrong), ssl=by_name, server_hostname=WRONG_NAME
        )  # valid for the other name: the certificate itself is fine
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 2)).startswith(b"HTTP/1.1 200 OK")
        writer.close()
        lax = ssl.create_default_context()
        lax.check_hostname, lax.verify_mode = False, ssl.CERT_NONE
        async with httpx.AsyncClient(verify=lax, timeout=2) as insecure:
            page = await insecure.get(expired)
            assert page.status_code == 200 and f'href="{expired}index.php/feed"' in page.text
        with pytest.raises(httpx.TransportError):
            await client.get(expired.replace("https://", "http://"))  # plain HTTP is refused
        assert b"BEGIN CERTIFICATE" in fleet.tls_ca_pem()
        fleet.set_behaviour(codes["tls_expired"], "active")
        plain = fleet.url(codes["tls_expired"])
        assert plain.startswith("http://") and (await client.get(plain)).status_code == 200

    run(body)


def test_fault_servers_end_promptly_on_stop() -> None:
    async def main() -> float:
        fleet = Fleet.faults(seed=3, now=NOW, faults=["hang", "drip", "huge_body"], healthy=0)
        await fleet.start()
        async with httpx.AsyncClient(timeout=5, verify=TLS) as client:
            pending = [
                asyncio.ensure_future(client.get(fleet.url(v.code) + FEED)) for v in fleet.villages
            ]
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            await fleet.stop()
            results = await asyncio.gather(*pending, return_exceptions=True)
        assert all(isinstance(r, httpx.TransportError) for r in results[:2])
        return time.perf_counter() - started

    assert asyncio.run(main()) < 1.0
