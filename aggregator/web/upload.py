"""A bounded reader for one multipart/form-data form (a file and a few text fields).

The body is refused past `limit` bytes (by its Content-Length, and again while it streams),
then split on its boundary; only the first MAX_PARTS parts are looked at. Nothing is written
to disk and no third-party parser is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_PARTS = 8
TOO_LARGE = "Berkas terlalu besar"


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    data: bytes


def _disposition(head: bytes) -> tuple[str, str | None] | None:
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() != b"content-disposition":
            continue
        m = Message()
        m["content-disposition"] = value.decode("utf-8", "replace").strip()
        name = m.get_param("name", header="content-disposition")
        filename = m.get_filename()
        if isinstance(name, str):
            return name, filename
    return None


def parse_multipart(body: bytes, boundary: str) -> dict[str, Part]:
    """Parts by field name (the first of a name wins); malformed parts are ignored."""
    out: dict[str, Part] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1 : MAX_PARTS + 1]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        found = _disposition(head) if sep else None
        if found is None:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        name, filename = found
        out.setdefault(name, Part(name, filename, content))
    return out


async def read_multipart(request: Request, limit: int) -> dict[str, Part]:
    """The request's multipart form, at most `limit` bytes; 413 past it, {} if the body is
    not multipart (the caller's CSRF check then refuses it)."""
    ctype = request.headers.get("content-type", "")
    m = Message()
    m["content-type"] = ctype
    boundary = m.get_param("boundary")
    if m.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return {}
    if not 0 < len(boundary) <= 200:
        return {}
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, TOO_LARGE)
    return parse_multipart(bytes(body), boundary)
