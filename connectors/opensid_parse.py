"""Pure parsers for OpenSID's machine-readable answers besides the feed: /ppid and
/internal_api/* JSON, sitemap.xml, and the url forms of its articles.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aggregator.errors import ParseError
from aggregator.types import ParsedItem, bounded_body
from connectors.normalise import (
    content_hash,
    html_to_text,
    normalise_url,
    parse_indonesian_date,
    truncate,
)

SUMMARY_CHARS = 400  # same cut as connectors.feed, so feed and arsip summaries agree
# /artikel/{Y}/{m}/{d}/{slug}, with or without index.php/ and the legacy first/ prefix.
_ARTICLE_PATH = re.compile(
    r"^(?P<root>.*?)/(?:index\.php/)?(?:first/)?artikel/"
    r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<slug>[^/]+)/?$"
)
_SITEMAP_URL = re.compile(r"<url\b[^>]*>(.*?)</url\s*>", re.IGNORECASE | re.DOTALL)
_SITEMAP_LOC = re.compile(r"<loc\b[^>]*>\s*(.*?)\s*</loc\s*>", re.IGNORECASE | re.DOTALL)
_SITEMAP_LASTMOD = re.compile(r"<lastmod\b[^>]*>\s*(.*?)\s*</lastmod\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class PpidSummary:
    count: int  # enabled public documents
    last_date: datetime | None  # newest tgl_upload


@dataclass(frozen=True)
class Officials:
    """Counts only: names, NIP and photos of officials are never kept."""

    count: int
    present: int | None  # None when the page shows no attendance at all


@dataclass(frozen=True)
class ArsipPage:
    total: int | None  # every enabled, published entry (all `tipe`s)
    total_pages: int | None
    rows: int  # records on this page, news or not
    items: tuple[ParsedItem, ...]  # news only (`tipe` dinamis)


# -- urls ------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def canonical_article_url(url: str) -> str:
    """One form per article: `{root}/index.php/artikel/{Y}/{m}/{d}/{slug}`, unpadded.

    OpenSID resolves padded and unpadded dates, with or without index.php/ and first/;
    the feed writes unpadded dates, internal_api/arsip padded ones. index.php/ is kept
    always because it works whether or not the site has a .htaccess, so the form survives a
    site switching it on. Other urls come back unchanged.

    Remembered: a first poll asks for each article's form from its feed entry (link and
    guid), its sitemap entry and the menu, three urlsplits an article otherwise.
    """
    parts = urlsplit(url)
    m = _ARTICLE_PATH.match(parts.path)
    if m is None or parts.scheme not in ("http", "https"):
        return url
    y, month, day = int(m["y"]), int(m["m"]), int(m["d"])
    path = f"{m['root']}/index.php/artikel/{y}/{month}/{day}/{m['slug']}"
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))


def article_day(url: str) -> date | None:
    """The day in an article's dated url (its `tgl_upload` day), None for other urls."""
    m = _ARTICLE_PATH.match(urlsplit(url).path)
    if m is None:
        return None
    try:
        return date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None


def site_base(url: str) -> str:
    """Root of an OpenSID site from any of its urls, without trailing slash."""
    parts = urlsplit(url)
    path = parts.path
    if (cut := path.find("/index.php")) >= 0:
        path = path[:cut]
    path = path.rstrip("/")
    if path.endswith("/first"):  # old releases answered the home page at /first
        path = path[: -len("/first")]
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))


def _slug_title(slug: str) -> str:
    words = re.split(r"[-_\s]+", html.unescape(slug))
    return " ".join(w[:1].upper() + w[1:] for w in words if w) or "(tanpa judul)"


# -- JSON ------------------------------------------------------------------------------


def _load_json(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError("malformed JSON") from e


def looks_like_json(content: bytes) -> bool:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _truthy(value: object) -> bool:
    return value not in (None, 0, "0", "", False)


def parse_ppid(content: bytes) -> PpidSummary:
    """`/ppid`: `{status, data: {ppid: [rows], "total data": N}}`."""
    doc = _load_json(content)
    if not isinstance(doc, dict):
        raise ParseError("unexpected JSON shape")
    if doc.get("status") != "success":
        raise ParseError(f"status {doc.get('status')!r}")
    data = doc.get("data")
    rows = data.get("ppid") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ParseError("no ppid list")
    count, last = 0, None
    for row in rows:
        if not isinstance(row, dict) or not _truthy(row.get("enabled", 1)):
            continue
        count += 1
        when = parse_indonesian_date(str(row.get("tgl_upload") or ""))
        if when is not None and (last is None or when > last):
            last = when
    return PpidSummary(count, last)


def _jsonapi(content: bytes) -> tuple[list[Any], int | None, int | None]:
    """(data rows, meta.pagination.total, total_pages) of a JSON:API document."""
    doc = _load_json(content)
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise ParseError("not a JSON:API document")
    meta = doc.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    total = pages = None
    if isinstance(pagination, dict):
        total = _int_or_none(pagination.get("total"))
        pages = _int_or_none(pagination.get("total_pages"))
    return doc["data"], total, pages


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _attributes(row: object) -> Mapping[str, Any]:
    attrs = row.get("attributes") if isinstance(row, dict) else None
    return attrs if isinstance(attrs, dict) else {}


def parse_jsonapi_count(content: bytes) -> int:
    """How many records an /internal_api list holds (its pagination total, else the rows)."""
    rows, total, _ = _jsonapi(content)
    return total if total is not None else len(rows)


def _arsip_item(attrs: Mapping[str, Any], base: str) -> ParsedItem | None:
    slug = str(attrs.get("slug") or "").strip()
    published = parse_indonesian_date(str(attrs.get("tgl_upload") or ""))
    url = normalise_url(str(attrs.get("url_slug") or ""), base)
    if not url and slug and published is not None:
        url = f"{base}/index.php/artikel/{published.year}/{published.month}/{published.day}/{slug}"
    if not url:
        return None
    url = canonical_article_url(url)
    title = html_to_text(str(attrs.get("judul") or ""))
    body = html_to_text(str(attrs.get("isi") or ""))
    category = attrs.get("category")
    if isinstance(category, dict):
        category = category.get("kategori") or category.get("nama")
    gambar = str(attrs.get("gambar") or "").strip()
    return ParsedItem(
        title=title or "(tanpa judul)",
        url=url,
        guid=url,
        published_at=published,
        summary=truncate(body, SUMMARY_CHARS),
        category=html_to_text(str(category or "")) or None,
        # Same image path the feed uses for its thumbnails.
        thumbnail=f"{base}/desa/upload/artikel/sedang_{gambar}" if gambar else None,
        content_hash=content_hash(title, body),
        source="api",  # internal_api/arsip lists published articles only
        body=bounded_body(str(attrs.get("isi") or "")),
    )


def parse_arsip(content: bytes, base: str) -> ArsipPage:
    """One page of `/internal_api/arsip`: news items with whitelisted fields only.

    The endpoint also leaks author and comment personal data; it is never read.
    """
    rows, total, pages = _jsonapi(content)
    items = []
    for row in rows:
        attrs = _attributes(row)
        if str(attrs.get("tipe") or "dinamis").lower() != "dinamis":
            continue  # static pages, agenda and finance posts are not news
        if (item := _arsip_item(attrs, base)) is not None:
            items.append(item)
    return ArsipPage(total, pages, len(rows), tuple(items))


def parse_pemerintah_json(content: bytes) -> Officials:
    """`/internal_api/pemerintah`: officials with `kehadiran` flag and `status_kehadiran`."""
    rows, total, _ = _jsonapi(content)
    present = tracked = 0
    for row in rows:
        attrs = _attributes(row)
        status = str(attrs.get("status_kehadiran") or "").strip().lower()
        if _truthy(attrs.get("kehadiran", 1)) and status:
            tracked += 1
            present += status == "hadir"
    return Officials(total if total is not None else len(rows), present if tracked else None)


# -- sitemap ---------------------------------------------------------------------------


def parse_sitemap(content: bytes, skip: Container[str] = ()) -> tuple[ParsedItem, ...]:
    """Article urls of `/sitemap.xml` as items titled from their slug, but for those whose
    canonical url is in `skip` (the articles the feed gave: all but a few on a first poll).

    Read with regular expressions: the format is flat and this avoids an XML parser on
    hostile input. The sitemap lists every article row, unpublished ones included.
    """
    text = content.decode("utf-8", errors="replace")
    items: dict[str, ParsedItem] = {}
    for block in _SITEMAP_URL.findall(text):
        loc = _SITEMAP_LOC.search(block)
        url = normalise_url(html.unescape(loc.group(1))) if loc else ""
        if not url or (url := canonical_article_url(url)) in skip:
            continue
        m = _ARTICLE_PATH.match(urlsplit(url).path)
        if m is None:
            continue  # the home page entry and anything that is not an article
        lastmod = _SITEMAP_LASTMOD.search(block)
        published = parse_indonesian_date(lastmod.group(1) if lastmod else "")
        if published is None:
            published = parse_indonesian_date(f"{m['y']}-{m['m']}-{m['d']}")
        title = _slug_title(m["slug"])
        items.setdefault(
            url,
            ParsedItem(
                title=title,
                url=url,
                guid=url,
                published_at=published,
                # No body to hash: the url keeps two same-slug articles apart.
                content_hash=content_hash(title, url),
                source="sitemap",  # drafts and static pages too: never stored unconfirmed
            ),
        )
    return tuple(items.values())


_PUBDATE_OFFSET = re.compile(rb"<pub[dD]ate>[^<]*?\s([+-]\d{4}|GMT|UTC)\s*</pub[dD]ate>")
MAX_OFFSET_SCAN = 1 << 20


def stated_offsets(raw: bytes) -> set[bytes]:
    """The zone offsets a feed's pubDates print ("+0700", "+0000", "GMT")."""
    return set(_PUBDATE_OFFSET.findall(raw[:MAX_OFFSET_SCAN]))
