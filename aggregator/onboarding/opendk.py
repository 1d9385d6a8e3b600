"""Read the village list of a kecamatan's OpenDK site: its public JSON:API
`/api/frontend/v1/desa` (docs/design.md) gives kode_desa, nama and website per desa.

Every page, redirect and `links.next` goes through the poller's guarded fetcher: a hostile
OpenDK cannot make us request private or loopback addresses (unless allowed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from aggregator.errors import AggregatorError, FetchError
from aggregator.fetch.client import Fetcher
from aggregator.onboarding.tables import SiteRow

log = logging.getLogger(__name__)

DESA_PATH = "/api/frontend/v1/desa"
PAGE_SIZE = 100  # the API's maximum page[size]
MAX_PAGES = 50


class OpenDKError(AggregatorError):
    """The OpenDK instance did not give a usable village list."""


def listing_url(url: str) -> str:
    """The desa listing of an OpenDK site given its home page or the listing itself."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpenDKError(f"{url!r} is not an http(s) url")
    if "/api/" in parts.path:
        return url.strip()
    return url.strip().split("?")[0].rstrip("/") + DESA_PATH


def _records(payload: Any) -> list[dict[str, Any]]:
    """The desa records of one page: JSON:API `data[].attributes`, or a bare list."""
    data = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(data, list):
        raise OpenDKError("the answer has no `data` list of villages")
    out = []
    for item in data:
        if not isinstance(item, dict):
            continue
        attributes = item.get("attributes")
        out.append(attributes if isinstance(attributes, dict) else item)
    return out


def _next_page(payload: Any, url: str, number: int) -> str | None:
    """The next page's url from `links.next`, else from `meta.pagination`; None at the end."""
    if not isinstance(payload, dict):
        return None
    links = payload.get("links")
    if isinstance(links, dict) and isinstance(links.get("next"), str) and links["next"]:
        return str(links["next"])
    meta = payload.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if isinstance(pagination, dict):
        current = pagination.get("current_page", number)
        total = pagination.get("total_pages", number)
        if isinstance(current, int) and isinstance(total, int) and current < total:
            return str(httpx.URL(url).copy_merge_params({"page[number]": str(current + 1)}))
    return None


def _row(record: dict[str, Any], number: int) -> SiteRow:
    # kode_desa is the Kemendagri code (dotted or not); older installs only fill desa_id.
    code = record.get("kode_desa") or record.get("desa_id") or ""
    where = f"item {number}"
    if record.get("nama"):
        where += f" ({record['nama']})"
    return SiteRow(
        where=where,
        code=str(code).strip(),
        name=str(record.get("nama") or "").strip(),
        url=str(record.get("website") or "").strip(),
    )


async def fetch_villages(
    url: str,
    fetcher: Fetcher,
    *,
    on_page: Callable[[int], None] | None = None,
) -> list[SiteRow]:
    """Every desa the OpenDK instance lists, following pages; OpenDKError if it can't."""
    first = str(httpx.URL(listing_url(url)).copy_merge_params({"page[size]": str(PAGE_SIZE)}))
    rows: list[SiteRow] = []
    accept = "application/vnd.api+json, application/json"
    next_url: str | None = first
    seen: set[str] = set()
    number = 0
    while next_url and next_url not in seen and number < MAX_PAGES:
        seen.add(next_url)
        number += 1
        try:
            resp = await fetcher.get(next_url, accept=accept)
        except FetchError as e:
            raise OpenDKError(f"{e.url or next_url}: {e.message}") from e
        if resp.status_code != 200:
            raise OpenDKError(f"{next_url}: HTTP {resp.status_code}")
        try:
            payload = json.loads(resp.content.decode("utf-8-sig"))
        except ValueError as e:
            raise OpenDKError(f"{next_url}: not JSON ({e})") from e
        records = _records(payload)
        rows += [_row(r, len(rows) + i + 1) for i, r in enumerate(records)]
        log.info("opendk %s: page %d, %d villages", next_url, number, len(records))
        if on_page is not None:
            on_page(number)
        next_url = _next_page(payload, next_url, number) if records else None
    return rows
