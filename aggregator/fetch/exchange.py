"""One GET straight on httpcore's connection pool.

httpx's client wraps every request in its own models (a request and response object, header
merging, auth and redirect machinery, a bound stream): about 0.6 ms of CPU a request on
loopback, a fifth of a steady poll. `Fetcher.get` does redirects, cookies, the deadline and
the body cap itself, so it asks the pool directly and keeps only what it needs: httpx's URL
(it percent-encodes and IDNA-encodes as before) and the body decoders httpx would have used
for the encodings we accept (gzip, deflate). Errors are httpcore's own, the same types and
messages httpx passed on (`aggregator.fetch.client._classify` reads both).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpcore
import httpx

from aggregator.errors import FetchError


class DecodingError(Exception):
    """A body that its Content-Encoding does not decode."""


def request_headers(
    url: httpx.URL, defaults: Mapping[str, str], sent: Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    """Host first, then `defaults` with `sent` added or replacing (names compared without
    case), as httpx built them."""
    merged = {k.lower(): (k, v) for k, v in defaults.items()}
    merged |= {k.lower(): (k, v) for k, v in sent.items()}
    out = [(b"Host", url.netloc)]
    for name, value in merged.values():
        out.append((name.encode("ascii"), _encode(value)))
    return out


def _encode(value: str) -> bytes:
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def response_headers(raw: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], list[str]]:
    """(headers by lower-case name, a repeated one joined by ", " as httpx did; every
    Set-Cookie value). Values are read as ASCII, else UTF-8, else Latin-1 (httpx's order)."""
    encoding = _encoding_of(raw)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode(encoding)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if key == "set-cookie":
            cookies.append(text)
    return headers, cookies


def _encoding_of(raw: list[tuple[bytes, bytes]]) -> str:
    for encoding in ("ascii", "utf-8"):
        try:
            for name, value in raw:
                name.decode(encoding)
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


@asynccontextmanager
async def opened(
    pool: httpcore.AsyncConnectionPool,
    url: httpx.URL,
    headers: list[tuple[bytes, bytes]],
    timeouts: Mapping[str, float],
) -> AsyncIterator[httpcore.Response]:
    """The response to a GET of `url`, its body not read yet; closed on leaving."""
    target = httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )
    request = httpcore.Request(b"GET", target, headers=headers, extensions={"timeout": timeouts})
    response = await pool.handle_async_request(request)
    try:
        yield response
    finally:
        await response.aclose()


class _Decoder:
    """gzip or deflate, one chunk at a time (a deflate body may be zlib-wrapped or raw)."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding == "gzip"
        self.first = True
        self.inner: Any = zlib.decompressobj(zlib.MAX_WBITS | 16 if self.gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes) -> bytes:
        first, self.first = self.first, False
        try:
            return bytes(self.inner.decompress(data))
        except zlib.error as e:
            if first and not self.gzip:  # raw deflate, without the zlib wrapper
                self.inner = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(data)
            raise DecodingError(str(e)) from e

    def flush(self) -> bytes:
        try:
            return bytes(self.inner.flush())
        except zlib.error as e:
            raise DecodingError(str(e)) from e


def decoders(headers: Mapping[str, str]) -> list[_Decoder]:
    """The decoders of a response's Content-Encoding, outermost first; an encoding we did
    not ask for is passed through as it is, as httpx did."""
    names = [v.strip().lower() for v in headers.get("content-encoding", "").split(",")]
    return [_Decoder(name) for name in reversed(names) if name in ("gzip", "deflate")]


async def read_capped(
    response: httpcore.Response, headers: Mapping[str, str], cap: int, url: str
) -> bytes:
    """The decoded body, refused once it exceeds `cap` bytes (declared or decoded)."""
    stream: AsyncIterable[bytes] = response.stream  # type: ignore[assignment]
    return await capped(_decoded(stream, decoders(headers)), headers, cap, url)


async def _decoded(stream: AsyncIterable[bytes], chain: list[_Decoder]) -> AsyncIterator[bytes]:
    async for chunk in stream:
        for d in chain:
            chunk = d.decode(chunk)
        yield chunk
    for i, d in enumerate(chain):  # what each decoder still holds goes through the rest
        tail = d.flush()
        for rest in chain[i + 1 :]:
            tail = rest.decode(tail)
        yield tail


async def capped(
    chunks: AsyncIterable[bytes], headers: Mapping[str, str], cap: int, url: str
) -> bytes:
    """A body of decoded `chunks`, refused once it exceeds `cap` bytes: at once when its
    Content-Length says so, else as soon as the decoded chunks pass it (every body the
    fetcher reads, a GET's or a webhook POST's)."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError("http", f"body of {declared} bytes exceeds the {cap}-byte cap", url=url)
    kept: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise FetchError(
                "http", f"body exceeds the {cap}-byte cap (after decompression)", url=url
            )
        kept.append(chunk)
    return b"".join(kept)
