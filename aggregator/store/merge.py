"""Merging a harvest into the stored news items: deduplicated by guid, url or content hash,
edits taken, spam flags kept (the poll writer's hot path).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from aggregator.models import NewsItem
from aggregator.types import ParsedItem

# The stored items a harvest may match, by guid, url or (for items with neither) content hash:
# built once, the lists bound as expanding parameters (a merge per poll is a hot path).
_EXISTING = sa_select(
    col(NewsItem.id),
    col(NewsItem.guid),
    col(NewsItem.url),
    col(NewsItem.content_hash),
    col(NewsItem.title),
    col(NewsItem.is_spam),
).where(
    col(NewsItem.village_code) == bindparam("code"),
    or_(
        col(NewsItem.guid).in_(bindparam("guids", expanding=True)),
        col(NewsItem.url).in_(bindparam("urls", expanding=True)),
        col(NewsItem.content_hash).in_(bindparam("hashes", expanding=True)),
    ),
)


def dedup_keys(item: ParsedItem) -> list[tuple[str, str]]:
    """Identity of an item, strongest first: guid, then url; the content hash only for an
    item with neither (two real posts may share a text, e.g. a monthly posyandu notice)."""
    keys = []
    if item.guid:
        keys.append(("guid", item.guid))
    if item.url:
        keys.append(("url", item.url))
    if not keys:
        keys.append(("hash", item.content_hash))
    return keys


def _dedup_key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:64]}"


def merge_items(
    s: Session, code: str, items: Iterable[ParsedItem], now: datetime
) -> tuple[list[dict[str, Any]], bool]:
    """Insert new items, update edited ones; returns (the new rows, whether any stored
    item was edited)."""
    items = [i for i in items if not i.known]  # stored by an earlier poll, unchanged
    if not items:
        return [], False
    guids = [i.guid for i in items if i.guid]
    urls = [i.url for i in items if i.url]
    # The hash identifies only items with neither guid nor url (see dedup_keys).
    hashes = [i.content_hash for i in items if not i.guid and not i.url]
    conn = s.connection()
    rows = conn.execute(
        _EXISTING, {"code": code, "guids": guids, "urls": urls, "hashes": hashes}
    ).all()
    index: dict[tuple[str, str], Any] = {}
    for row in rows:
        identities = [("guid", row.guid), ("url", row.url)]
        if not row.guid and not row.url:
            identities.append(("hash", row.content_hash))
        for kind, value in identities:
            if value:
                index.setdefault((kind, value), row)
    edited = False
    fresh: list[dict[str, Any]] = []  # inserted in one statement (no ORM object per item)
    seen_new: set[tuple[str, str]] = set()
    for item in items:
        keys = dedup_keys(item)
        if any(k in seen_new for k in keys):
            continue  # the same item twice in one harvest
        found = next((index[k] for k in keys if k in index), None)
        if found is None:
            fresh.append(
                {
                    "village_code": code,
                    "dedup_key": _dedup_key(*keys[0]),
                    "first_seen": now,
                    "guid": item.guid,
                    "url": item.url,
                    "title": item.title,
                    "summary": item.summary,
                    "published_at": item.published_at,
                    "category": item.category,
                    "thumbnail": item.thumbnail,
                    "content_hash": item.content_hash,
                    "is_spam": item.spam,
                    "source": item.source,
                }
            )
            seen_new.update(keys)
            continue
        if (found.content_hash, found.title, found.is_spam) == (
            item.content_hash,
            item.title,
            item.spam,
        ):
            continue
        edited = True  # an edited article: keep its identity, take the new text
        values: dict[str, Any] = {
            "title": item.title,
            "summary": item.summary,
            "category": item.category,
            "thumbnail": item.thumbnail,
            "content_hash": item.content_hash,
            "is_spam": item.spam,
            **({"guid": item.guid} if item.guid else {}),
            **({"url": item.url} if item.url else {}),
            **({"published_at": item.published_at} if item.published_at else {}),
        }
        conn.execute(update(NewsItem).where(col(NewsItem.id) == found.id).values(values))
    if fresh:
        s.connection().execute(insert(NewsItem), fresh)
    return fresh, edited
