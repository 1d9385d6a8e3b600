"""Generic feed connector: RSS 0.9x/1.0/2.0, Atom and JSON Feed; find the feed, parse it.

Parsing is pure (`read_feed`, `parse_feed`, `discover_feeds`); `FeedConnector.collect` only
orders the requests. feedparser reads XML feeds because it survives what village sites emit.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import time
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin

import feedparser
from selectolax.lexbor import LexborHTMLParser

from aggregator.errors import ParseError
from aggregator.types import (
    ParsedItem,
    VillageForPoll,
    bounded_body,
)
from connectors import feed_fast
from connectors.normalise import (
    WIB,
    content_hash,
    first_image,
    html_to_text,
    is_plain_absolute,
    normalise_url,
    parse_indonesian_date,
    squash_spaces,
    truncate,
    unescape_text,
)

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
)
# Where sites usually publish a feed when the home page doesn't link one (OpenSID first).
FALLBACK_PATHS = ("index.php/feed", "feed", "feed.xml", "rss.xml", "atom.xml")
SUMMARY_CHARS = 400
UNTITLED = "(tanpa judul)"
# OpenSID ends feed excerpts with " [...]", WordPress with "[&#8230;]".
_EXCERPT_MARK = re.compile(r"\s*\[(?:\.\.\.|…)\]\s*$")
_OPENSID_RIGHTS = re.compile(r"opensid\s+v?(\d+(?:\.\d+)*)", re.IGNORECASE)
_WORDPRESS_GEN = re.compile(r"wordpress\.org/\?v=([\d.]+)", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])""")
# WHATWG: a page labelled latin-1 or ascii is decoded as windows-1252, and so are feeds in practice.
_CP1252_LABELS = {"windows-1252", "cp1252", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"}
_STRAY_BYTES = re.compile("[\udc80-\udcff]+")  # surrogateescape'd bytes that were not UTF-8
# The zone at the end of a feed date: "+0700", "+07:00", "Z", "GMT", "WIB"...
_ZONE_TAIL = re.compile(r"(?:([+-]\d{2}:?\d{2})|(?<![A-Za-z])([A-Za-z]{1,5}))\s*$")
ID_ZONES = {
    "wib": WIB,
    "wita": timezone(timedelta(hours=8), "WITA"),
    "wit": timezone(timedelta(hours=9), "WIT"),
}


@dataclass(frozen=True)
class Detection:
    """What a home page says about the software behind a site (until base.py defines one)."""

    platform: str
    version: str | None
    theme: str | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str
    platform: str | None
    version: str | None
    items: tuple[ParsedItem, ...]


def _is_json_feed(content: bytes) -> bool:
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    # PHP's json_encode escapes slashes: "https:\/\/jsonfeed.org\/version\/1.1".
    return head.startswith(b"{") and b"jsonfeed.org" in content


def looks_like_feed(content: bytes) -> bool:
    if _is_json_feed(content):
        return True
    # A WordPress feed can follow PHP warnings printed before `<?xml`, hence 4 KiB.
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return any(marker in head for marker in (b"<rss", b"<feed", b"<rdf:rdf"))


def decode_lenient(raw: bytes) -> str:
    """UTF-8 text in which bytes that are not UTF-8 are read as Windows-1252 (the usual mix
    when a site pastes from a Windows editor into a UTF-8 page)."""
    text = raw.decode("utf-8", errors="surrogateescape")

    def cp1252(m: re.Match[str]) -> str:
        return bytes(ord(c) - 0xDC00 for c in m.group()).decode("cp1252", errors="replace")

    return _STRAY_BYTES.sub(cp1252, text)


def repair_encoding(content: bytes) -> tuple[bytes, str | None]:
    """The feed as UTF-8 that says so, and a note if its label lied or junk preceded it."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content, None  # UTF-16 with a BOM: feedparser reads it right
    notes = []
    start = content.find(b"<?xml", 0, 4096)
    # Only junk before the document, not an "<?xml" quoted inside one.
    if start > 0 and not any(
        root in content[:start].lower() for root in (b"<rss", b"<feed", b"<rdf")
    ):
        if content[:start].strip(b"\xef\xbb\xbf \t\r\n"):
            # PHP notices printed before the declaration (docs/design.md).
            notes.append(f"{start} bytes of text before the XML declaration")
        content = content[start:]
    m = _XML_DECL.match(content)
    label = m.group(2).decode("ascii").lower() if m else "utf-8"
    if label not in ("utf-8", "utf8") and label not in _CP1252_LABELS:
        return content, "; ".join(notes) or None  # another real charset: feedparser's job
    try:
        text = content.decode("utf-8")
        if label in _CP1252_LABELS and not text.isascii():
            notes.append(f"feed declares {label} but is UTF-8")
    except UnicodeDecodeError:
        if label in ("utf-8", "utf8"):
            text = decode_lenient(content)
            notes.append("feed declares UTF-8 but has Windows-1252 bytes")
        else:
            text = content.decode("cp1252", errors="replace")
    fixed = text.encode("utf-8")
    if m:
        fixed = _XML_DECL.sub(rb"\1utf-8\3", fixed, count=1)
    return fixed, "; ".join(notes) or None


def fixed_offset(offset: str) -> timezone:
    """The zone of "+0700" / "-03:30"."""
    sign = -1 if offset.startswith("-") else 1
    digits = offset.lstrip("+-").replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def _wall_time(parsed: time.struct_time | None, tz: timezone) -> datetime | None:
    return datetime(*parsed[:6], tzinfo=tz) if parsed else None


def feed_date(raw: str, parsed: time.struct_time | None = None) -> datetime | None:
    """A feed date in UTC. feedparser reads a date without offset as UTC; village sites mean
    WIB (or the WITA/WIT they name, which feedparser doesn't know), so those are redone here."""
    raw = raw.strip()
    zone = _ZONE_TAIL.search(raw)
    offset, name = (zone.group(1), (zone.group(2) or "").lower()) if zone else (None, "")
    if zone is None or name in ("am", "pm"):
        local = _wall_time(parsed, WIB) or parse_indonesian_date(raw)
    elif name in ID_ZONES:
        local = parse_indonesian_date(raw[: zone.start()], ID_ZONES[name])
        local = local or _wall_time(parsed, ID_ZONES[name])
    elif parsed:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    elif offset:  # an offset feedparser could not use, e.g. "Kamis, 23 Januari 2025 10:00 +0700"
        local = parse_indonesian_date(raw[: zone.start()], fixed_offset(offset))
    else:
        local = parse_indonesian_date(raw)
    return local.astimezone(UTC) if local else None


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published", "updated", "created"):
        if key not in entry:  # .get("updated") of an entry without one warns (feedparser #310)
            continue
        raw = str(entry.get(key, "") or "")
        parsed = entry.get(f"{key}_parsed")
        if (raw or parsed) and (found := feed_date(raw, parsed)):
            return found
    return None


def _entry_html(entry: Any) -> tuple[str, str]:
    """(description html, full content html) of an entry."""
    description = entry.get("summary", "") or ""
    content = ""
    for block in entry.get("content", []) or []:
        content = block.get("value", "") or content
    return description, content


def summary_text(fragment: str) -> str:
    """Summary of an excerpt: plain text, cut to SUMMARY_CHARS, " …" where the site cut it."""
    summary, cut = _EXCERPT_MARK.subn("", html_to_text(fragment))
    return truncate(summary, SUMMARY_CHARS) + (" …" if cut else "")


def _clean_term(value: object) -> str | None:
    return squash_spaces(unescape_text(str(value or ""))) or None


def fingerprint(*parts: object) -> str:
    """A short digest of raw values (an entry as the site sent it, a response body)."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(str(part).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


NO_KNOWN: frozenset[str] = frozenset()


def parse_item(entry: Any, base: str, known: Container[str] = NO_KNOWN) -> ParsedItem:
    guid = (entry.get("id") or "").strip() or None
    return build_item(entry, base, _entry_date(entry), guid, known)


def build_item(
    entry: Any,
    base: str,
    published: datetime | None,
    guid: str | None,
    known: Container[str] = NO_KNOWN,
) -> ParsedItem:
    """The item of one feed entry. An entry in `known` (fingerprints of the entries the
    village's last poll stored) is not normalised again: sanitising every entry of a feed
    on every poll was most of a poll's CPU, and an unchanged entry changes nothing."""
    description, content = _entry_html(entry)
    raw_title = entry.get("title", "") or ""
    raw_link = entry.get("link", "") or ""
    tags = entry.get("tags") or []
    term = tags[0].get("term") if tags else None
    mark = fingerprint(raw_title, raw_link, description, content, published, guid, term, base)
    if mark in known:  # left out of the store's merge: its link is kept as the feed gave it
        title = unescape_text(raw_title).strip()
        return ParsedItem(
            title=title or UNTITLED,
            url=raw_link,
            guid=guid,
            published_at=published,
            fingerprint=mark,
            known=True,
        )
    link = normalise_url(raw_link, base)
    title = html_to_text(raw_title)
    summary = summary_text(description or content)
    body_text = html_to_text(content) if content else summary
    return ParsedItem(
        title=title or UNTITLED,
        url=link,
        guid=guid,
        published_at=published,
        summary=summary,
        category=_clean_term(term) if tags else None,
        thumbnail=first_image(description, base) or first_image(content, base),
        content_hash=content_hash(title, body_text),
        fingerprint=mark,
        body=bounded_body(content or description),
    )


def _json_date(value: object) -> datetime | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        found = datetime.fromisoformat(raw)  # RFC 3339, as JSON Feed requires
    except ValueError:
        return feed_date(raw)
    return (found if found.tzinfo else found.replace(tzinfo=WIB)).astimezone(UTC)


def _json_item(obj: dict[str, Any], base: str, known: Container[str] = NO_KNOWN) -> ParsedItem:
    # JSON Feed titles, summaries and content_text are plain text: no HTML stripping for them.
    mark = fingerprint(json.dumps(obj, sort_keys=True, default=str), base)
    title = _clean_term(obj.get("title")) or ""
    content_html = str(obj.get("content_html") or "")
    text = _clean_term(obj.get("content_text")) or html_to_text(content_html)
    summary = _clean_term(obj.get("summary")) or text
    image = normalise_url(str(obj.get("image") or obj.get("banner_image") or ""), base)
    tags = obj.get("tags")
    guid = obj.get("id")
    url = normalise_url(str(obj.get("url") or obj.get("external_url") or ""), base)
    published = _json_date(obj.get("date_published") or obj.get("date_modified"))
    guid_text = (str(guid).strip() or None) if guid is not None else None
    if mark in known:
        return ParsedItem(
            title or UNTITLED, url, guid_text, published, fingerprint=mark, known=True
        )
    return ParsedItem(
        title=title or UNTITLED,
        url=url,
        guid=guid_text,
        published_at=published,
        summary=truncate(summary, SUMMARY_CHARS),
        category=_clean_term(tags[0]) if isinstance(tags, list) and tags else None,
        thumbnail=image or first_image(content_html, base),
        content_hash=content_hash(title, text or summary),
        fingerprint=mark,
        body=bounded_body(content_html),
    )


def _parse_json_feed(content: bytes, base_url: str, known: Container[str] = NO_KNOWN) -> ParsedFeed:
    try:
        doc = json.loads(decode_lenient(content).lstrip("\ufeff"))
    except ValueError as e:
        raise ParseError(f"not a JSON Feed: {e}") from e
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        raise ParseError("not a JSON Feed: no jsonfeed.org version")
    base = normalise_url(str(doc.get("home_page_url") or ""), base_url) or base_url
    entries = doc.get("items")
    items = [_json_item(e, base, known) for e in entries if isinstance(e, dict)] if entries else []
    return ParsedFeed(
        title=_clean_term(doc.get("title")) or "",
        link=base,
        platform=None,
        version=None,
        items=tuple(items),
    )


def _platform(rights: str, generator: str, generator_version: str | None) -> tuple[str, str] | None:
    if m := _OPENSID_RIGHTS.search(rights):
        return "opensid", m.group(1)
    if m := _WORDPRESS_GEN.search(generator):
        return "wordpress", m.group(1)
    if "wordpress" in generator.lower():  # Atom: <generator uri=… version="6.6.2">WordPress
        return "wordpress", generator_version or ""
    return None


def join_link(base_url: str, link: str) -> str:
    """`urljoin(base_url, link)`, without its cost for the common absolute link (it was a
    fifth of re-reading a changed feed)."""
    return link if is_plain_absolute(link) else urljoin(base_url, link)


def _parse_xml_fast(
    content: bytes, base_url: str, known: Container[str] = NO_KNOWN
) -> ParsedFeed | None:
    fast = feed_fast.parse(content)
    if fast is None:
        return None
    feed, rows = fast
    base = normalise_url(str(feed.get("link", "") or ""), base_url) or base_url
    items = []
    for entry, published, guid in rows:
        # As feedparser does: links against the document's url, the rest against the channel.
        link = join_link(base_url, str(entry.get("link") or "")) if entry.get("link") else ""
        summary = entry.get("description") or ""
        blocks = entry.get("content") or []
        if [c.get("value") for c in blocks] == [summary]:
            blocks = []  # fastfeedparser copies a lone description into content; feedparser not
        shaped = {**entry, "link": link, "summary": summary, "content": blocks}
        items.append(build_item(shaped, base, published, guid, known))
    found = _platform(feed["rights"], str(feed.get("generator") or ""), feed["generator_version"])
    return ParsedFeed(
        title=html_to_text(str(feed.get("title", "") or "")),
        link=base,
        platform=found[0] if found else None,
        version=(found[1] or None) if found else None,
        items=tuple(items),
    )


def _parse_xml_feed(content: bytes, base_url: str, known: Container[str] = NO_KNOWN) -> ParsedFeed:
    fast = _parse_xml_fast(content, base_url, known)
    return fast if fast is not None else _parse_xml_slow(content, base_url, known)


def _parse_xml_slow(content: bytes, base_url: str, known: Container[str] = NO_KNOWN) -> ParsedFeed:
    # Our own nh3 pass sanitises and we resolve links against the feed url ourselves;
    # feedparser's sanitiser and URI resolution would double the parse time (124 -> 60 ms
    # on a 75 kB OpenSID feed).
    parsed = feedparser.parse(
        content,
        response_headers={"content-location": base_url},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not entries and not feed.get("title") and parsed.get("version", "") == "":
        reason = parsed.get("bozo_exception") or "no feed elements"
        raise ParseError(f"not an RSS/Atom feed: {reason}")
    rights = str(feed.get("rights", "") or "")
    detail = feed.get("generator_detail") or {}
    generator = str(feed.get("generator", "") or "") + " " + str(detail.get("href", ""))
    found = _platform(rights, generator, str(detail.get("version") or "") or None)
    base = normalise_url(str(feed.get("link", "") or ""), base_url) or base_url
    return ParsedFeed(
        title=html_to_text(str(feed.get("title", "") or "")),
        link=base,
        platform=found[0] if found else None,
        version=(found[1] or None) if found else None,
        items=tuple(parse_item(e, base, known) for e in entries),
    )


def dedupe_guids(items: Sequence[ParsedItem]) -> tuple[tuple[ParsedItem, ...], list[str]]:
    """Items with a repeated guid: an exact repeat is dropped (the first is kept); a guid shared
    by different links (a site giving every post its home url) is not an identity at all."""
    links: dict[str, set[str]] = {}
    for item in items:
        if item.guid:
            links.setdefault(item.guid, set()).add(item.url)
    shared = {guid for guid, urls in links.items() if len(urls) > 1}
    seen: set[str] = set()
    kept: list[ParsedItem] = []
    for item in items:
        if item.guid in shared:
            item = replace(item, guid=None)
        elif item.guid:
            if item.guid in seen:
                continue
            seen.add(item.guid)
        kept.append(item)
    notes = []
    if dropped := len(items) - len(kept):
        notes.append(f"{dropped} item(s) repeated a guid; kept the first")
    if shared:
        notes.append(f"{len(shared)} guid(s) shared by different links; ignored them")
    return tuple(kept), notes


def read_feed(
    content: bytes, base_url: str, known: Container[str] = NO_KNOWN
) -> tuple[ParsedFeed, tuple[str, ...]]:
    """Parse RSS/RDF/Atom/JSON Feed bytes; return the feed and notes on what had to be fixed.
    Raise ParseError if nothing feed-like is in them. Entries whose fingerprint is in `known`
    come back as `known` items, not normalised again (see `build_item`)."""
    notes: list[str] = []
    if _is_json_feed(content):
        feed = _parse_json_feed(content, base_url, known)
    else:
        fixed, note = repair_encoding(content)
        notes += [note] if note else []
        feed = _parse_xml_feed(fixed, base_url, known)
    items, dedupe_notes = dedupe_guids(feed.items)
    return replace(feed, items=items), (*notes, *dedupe_notes)


def parse_feed(content: bytes, base_url: str, known: Container[str] = NO_KNOWN) -> ParsedFeed:
    """Parse feed bytes (see `read_feed`) without the notes."""
    return read_feed(content, base_url, known)[0]


FEED_STATE_KEYS = ("body", "items")


def feed_state(village: VillageForPoll, feed_url: str) -> Mapping[str, str]:
    """What the village's last successful poll remembered about this feed."""
    kept = village.validators.get(feed_url, {})
    return {k: kept[k] for k in FEED_STATE_KEYS if k in kept}


def reread_feed(
    content: bytes, url: str, state: Mapping[str, str]
) -> tuple[ParsedFeed, tuple[str, ...], dict[str, str]] | None:
    """`read_feed` for a poll: None when the body is byte-identical to the one last stored
    (a site without ETag or Last-Modified; as good as a 304), else the feed, its notes and
    the state to remember for the next poll."""
    body = hashlib.blake2b(content, digest_size=16).hexdigest()
    if state.get("body") == body and "items" in state:
        return None
    feed, notes = read_feed(content, url, frozenset(state.get("items", "").split()))
    marks = " ".join(i.fingerprint for i in feed.items if i.fingerprint)
    return feed, notes, {"body": body, "items": marks}


def discover_feeds(page: bytes, base_url: str) -> list[str]:
    """Feed urls announced by `<link rel="alternate">` on an HTML page, in page order."""
    tree = LexborHTMLParser(page.decode("utf-8", errors="replace"))
    base_node = tree.css_first("base[href]")
    base = urljoin(base_url, base_node.attributes.get("href") or "") if base_node else base_url
    found: list[str] = []
    for node in tree.css("link[rel][href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        kind = (node.attributes.get("type") or "").lower().strip()
        if "alternate" in rel and kind in FEED_TYPES:
            url = normalise_url(node.attributes.get("href") or "", base)
            if url and url not in found:
                found.append(url)
    return found
