"""Hostile and broken servers: what each fault serves, and the failure phase a correct
poller records for it. Content faults (broken or hostile XML, encodings) are in corrupt.py,
certificates in tls.py; hang, down_500 and unresolvable predate this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import struct
import zlib
from collections.abc import Mapping
from types import MappingProxyType

from .httpd import Request, Response, reason
from .render import HTML, XML, simple_page

# The phase (aggregator.errors.PHASES) a correct poller records, within the request deadline,
# when the fault village is polled; None: it stores the content, safely parsed.
#
# Honest about the content faults, where a correct poller may do either: refuse ("parse") or
# parse safely (None). Sipande's feedparser-based connectors do the latter: the loose parser
# recovers the items before the cut of a broken feed, leaves `&lol9;` and `&xxe;` unexpanded
# (no entity expansion, no file read), and decodes mislabelled bytes with replacements; a
# poller that refuses DTDs or invalid UTF-8 records "parse" instead. ACCEPTABLE_FAULT_OUTCOMES
# lists every outcome a correct poller may record. "redirect_private" is "blocked" only with
# allow_private_addresses off (a test admits the fleet's loopback address through the
# fetcher's address policy); with it on, the poller would try 169.254.169.254 and record
# "connect". "ratelimit_429" and "down_500" are "http" with the status (and Retry-After) kept.
EXPECTED_FAULT_PHASE: Mapping[str, str | None] = MappingProxyType(
    {
        "hang": "http",
        "drip": "http",
        "reset": "http",
        "down_500": "http",
        "ratelimit_429": "http",
        "huge_body": "http",
        "gzip_bomb": "http",
        "redirect_loop": "http",
        "redirect_private": "blocked",
        "malformed_xml": None,
        "xml_bomb": None,
        "xxe": None,
        "bad_encoding": None,
        "hostile_markup": None,
        "unresolvable": "dns",
        "tls_expired": "tls",
        "tls_wrong_name": "tls",
    }
)
_EITHER: frozenset[str | None] = frozenset({"parse", None})
ACCEPTABLE_FAULT_OUTCOMES: Mapping[str, frozenset[str | None]] = MappingProxyType(
    {
        **{fault: frozenset({phase}) for fault, phase in EXPECTED_FAULT_PHASE.items()},
        # a reset before any response byte reads as a failed connection to some clients
        "reset": frozenset({"http", "connect"}),
        "malformed_xml": _EITHER,
        "xml_bomb": _EITHER,
        "xxe": _EITHER,
        "bad_encoding": _EITHER,
    }
)

# Served here at the connection level (the others answer through Site.respond).
WIRE_FAULTS = ("drip", "reset", "huge_body", "gzip_bomb")
RETRY_AFTER = "3600"
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
PRIVATE_URL = "http://10.0.0.1/"
DRIP_DECLARED = 1 << 20  # drip: the Content-Length promised, never delivered in time
HUGE_BODY_BYTES = 60 << 20  # huge_body: 60 MiB, chunked, no Content-Length
CHUNK = 64 << 10
BOMB_MIB = 1024  # gzip_bomb: ~1 MiB on the wire, 1 GiB of zeros once decompressed
_MIB = 1 << 20
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0, unix
_ZEROS_CRC = {1024: 0x5B64C2B0}  # crc32 of 1 GiB of zero bytes (checked by a test)


def wire_status(behaviour: str) -> int:
    """The status a wire fault's request is recorded with (0: nothing was answered)."""
    return 0 if behaviour == "reset" else 200


def fault_response(behaviour: str, request: Request, base: str) -> Response | None:
    """429, redirect loop or redirect to a private address, on every path; None otherwise."""
    if behaviour == "ratelimit_429":
        body = simple_page(f"429 {reason(429)}").encode()
        return Response(429, body, [("Retry-After", RETRY_AFTER), ("Content-Type", HTML)])
    if behaviour == "redirect_loop":
        target = "/loop-b" if request.path == "/loop-a" else "/loop-a"
        return Response(302, b"", [("Location", base + target)])
    if behaviour == "redirect_private":
        home = request.path in ("/", "/index.php")
        target = METADATA_URL if home else PRIVATE_URL + request.path.lstrip("/")
        return Response(302, b"", [("Location", target)])
    return None


@functools.cache
def gzip_bomb(mib: int = BOMB_MIB) -> bytes:
    """A gzip member that inflates to `mib` MiB of zeros, built without compressing them all:
    after a full flush deflate's output for each MiB of zeros is the same block, repeated."""
    zeros = bytes(_MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()
    crc = _ZEROS_CRC.get(mib)
    if crc is None:
        crc = 0
        for _ in range(mib):
            crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (mib * _MIB) & 0xFFFFFFFF)
    return _GZIP_HEADER + block * mib + end + trailer


@functools.cache
def _filler() -> bytes:
    line = b"<p>Informasi kegiatan desa, mohon menunggu halaman selesai dimuat.</p>\n"
    return (line * (CHUNK // len(line) + 1))[:CHUNK]


def _content_type(path: str) -> str:
    return XML if "feed" in path or path.endswith(".xml") else HTML


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason(status)}", *(f"{n}: {v}" for n, v in headers)]
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1")


def reset(writer: asyncio.StreamWriter) -> None:
    """Abort with SO_LINGER 0, so the peer gets a TCP RST instead of an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def serve_wire(
    behaviour: str, request: Request, writer: asyncio.StreamWriter, *, interval: float, limit: float
) -> None:
    """Answer one request with a wire fault; the connection ends afterwards. `interval` is
    drip's pause per byte, `limit` bounds how long a drip goes on (the fleet's hang_seconds)."""
    if behaviour == "reset":
        reset(writer)
        return
    kind = ("Content-Type", _content_type(request.path))
    head_only = request.method == "HEAD"
    if behaviour == "gzip_bomb":
        bomb = gzip_bomb()
        gz = [kind, ("Content-Encoding", "gzip"), ("Content-Length", str(len(bomb)))]
        writer.write(_head(200, gz) + (b"" if head_only else bomb))
        await writer.drain()
    elif behaviour == "huge_body":
        writer.write(_head(200, [kind, ("Transfer-Encoding", "chunked")]))
        if not head_only:
            await _stream(writer, HUGE_BODY_BYTES)
    elif behaviour == "drip":
        writer.write(_head(200, [kind, ("Content-Length", str(DRIP_DECLARED))]))
        await writer.drain()
        if not head_only:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit):
                    await _drip(writer, interval)


async def _stream(writer: asyncio.StreamWriter, total: int) -> None:
    """`total` bytes in CHUNK-sized chunks; drain() keeps at most a few chunks in memory."""
    chunk = _filler()
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    for _ in range(total // len(chunk)):
        writer.write(framed)
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def _drip(writer: asyncio.StreamWriter, interval: float) -> None:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>' + _filler()
    for at in range(DRIP_DECLARED):
        if writer.is_closing():
            return
        writer.write(body[at % len(body) : at % len(body) + 1])
        await writer.drain()
        await asyncio.sleep(interval)
