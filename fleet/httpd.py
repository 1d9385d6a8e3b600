"""A deliberately small HTTP/1.1 wire layer over asyncio streams: read requests, write responses."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

MAX_LINE = 8192
MAX_HEADERS = 100
MAX_DISCARDED_BODY = 1 << 20
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class BadRequest(Exception):
    """The peer sent something that is not an acceptable HTTP request."""

    def __init__(self, status: int, why: str, *, method: str = "", path: str = "") -> None:
        super().__init__(why)
        self.status = status
        self.method = method
        self.path = path


@dataclass(frozen=True)
class Request:
    """A parsed request head (any body was read and discarded)."""

    method: str
    path: str  # percent-decoded, no query string
    query: str
    version: str
    headers: dict[str, str]
    keep_alive: bool


@dataclass(frozen=True)
class Response:
    """A response ready to be written; `body` is already encoded (and compressed if chosen)."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        raise BadRequest(431, "header line too long") from exc
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise BadRequest(400, "truncated request") from exc
        raise EOFError from exc
    if len(line) > MAX_LINE:
        raise BadRequest(431, "header line too long")
    return line.rstrip(b"\r\n")


def _split_target(target: str, method: str) -> tuple[str, str]:
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return unquote(parts.path or "/"), parts.query
    if not target.startswith("/"):
        raise BadRequest(400, "bad request target", method=method)
    path, _, query = target.partition("?")
    return unquote(path), query


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; None when the peer closed cleanly between requests."""
    try:
        line = await _line(reader)
        while not line:  # tolerate stray CRLFs before a request line
            line = await _line(reader)
    except EOFError:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505 if version.startswith("HTTP/") else 400, "bad version", method=method)
    path, query = _split_target(target, method)
    headers: dict[str, str] = {}
    try:
        while header := await _line(reader):
            name, colon, value = header.decode("latin-1").partition(":")
            if not colon or not _TOKEN.fullmatch(name) or len(headers) >= MAX_HEADERS:
                raise BadRequest(400, "malformed header", method=method, path=path)
            key, value = name.lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    except EOFError as exc:
        raise BadRequest(400, "truncated request", method=method, path=path) from exc
    connection = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    if "transfer-encoding" in headers:
        keep_alive = False  # bodies of unknown length are not parsed; the connection ends
    elif length := headers.get("content-length", ""):
        if not length.isdigit() or int(length) > MAX_DISCARDED_BODY:
            raise BadRequest(400 if not length.isdigit() else 413, "body", method=method, path=path)
        try:
            await reader.readexactly(int(length))
        except asyncio.IncompleteReadError as exc:
            raise BadRequest(400, "truncated body", method=method, path=path) from exc
    return Request(method, path, query, version, headers, keep_alive)


def reason(status: int) -> str:
    """The standard reason phrase of a status code ("Not Found")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def head_bytes(response: Response, *, keep_alive: bool) -> bytes:
    """Status line and headers of a response, Content-Length and Connection included."""
    lines = [f"HTTP/1.1 {response.status} {reason(response.status)}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if response.status != 304 and response.status >= 200:
        lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: " + ("keep-alive" if keep_alive else "close"))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
