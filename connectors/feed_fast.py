"""Fast path for well-formed RSS/Atom: fastfeedparser (a Rust/lxml core, ~40x faster than
feedparser on an OpenSID feed: 1.6 vs 60 ms for 50 items) where its reading is sure to match
feedparser's; anything unusual returns None and goes the careful feedparser way.

Not taken: a DOCTYPE or entity declaration, bytes that are not UTF-8, a date without a
zone (fastfeedparser reads it as UTC; villages mean WIB), an RSS feed where only some items
have a guid (fastfeedparser invents guids from links).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import fastfeedparser  # type: ignore[import-untyped]

_DATES = re.compile(
    r"<(pubDate|pubdate|published|updated|dc:date|lastBuildDate)>\s*([^<]*?)\s*</\1>"
)
# A zone at the end: +0700, -03:00, Z, GMT/UT/UTC (what both parsers read the same way).
_ZONED = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z|GMT|UTC?)$")
_RIGHTS = re.compile(r"<dc:rights>([^<]*)</dc:rights>", re.IGNORECASE)
_ITEM = re.compile(r"<(item|entry)[\s>]")
_GUID = re.compile(r"<guid[\s>]")


_GENERATOR_VERSION = re.compile(r"<generator\b[^>]*\bversion=[\"']([^\"']+)[\"']")


def eligible(content: bytes) -> str | None:
    """The feed as text when the fast path reads it exactly like feedparser, else None."""
    head = content[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in content:
        return None
    try:
        text = content.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return None
    if any(not _ZONED.search(value) for _, value in _DATES.findall(text)):
        return None
    items = len(_ITEM.findall(text))
    guids = len(_GUID.findall(text))
    if not items or (guids and guids != items):
        return None
    return text


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return found.astimezone(UTC) if found.tzinfo else None


Row = tuple[dict[str, Any], datetime | None, str | None]  # entry, published, guid


def parse(content: bytes) -> tuple[dict[str, Any], list[Row]] | None:
    """(feed fields, entries with their date and guid) via fastfeedparser, or None to use
    feedparser."""
    text = eligible(content)
    if text is None:
        return None
    try:
        parsed = fastfeedparser.parse(content)
    except Exception:  # fastfeedparser raises plain exceptions on what it can't read
        return None
    entries = list(parsed.get("entries", []))
    if len(entries) != len(_ITEM.findall(text)):
        return None
    dated = [_date(e.get("published") or e.get("updated")) for e in entries]
    if None in dated and _DATES.search(text):
        return None  # a date fastfeedparser could not read (e.g. Indonesian month names)
    rss_without_guids = "<rss" in text[:2048] and not _GUID.search(text)
    rows: list[Row] = []
    for e, published in zip(entries, dated, strict=True):
        entry = dict(e)
        guid = None if rss_without_guids else (str(entry.get("id") or "").strip() or None)
        rows.append((entry, published, guid))
    feed = dict(parsed.get("feed", {}))
    feed["rights"] = m.group(1) if (m := _RIGHTS.search(text)) else ""
    feed["generator_version"] = m.group(1) if (m := _GENERATOR_VERSION.search(text)) else None
    return feed, rows
