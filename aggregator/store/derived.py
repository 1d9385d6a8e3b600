"""A village's derived columns: its news counts, newest post and status, kept in the
village row so that pages read them without counting. Functions over a session, called by
every part that changes what they depend on (a poll, a finding, the scoring run).

The rules themselves live in `aggregator.decide.status`; this module gathers their facts in SQL.
A new derived column goes here, with the write paths that must keep it current.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from aggregator.decide.status import (
    FUTURE_GRACE,
    RECENT_WINDOW,
    StatusFacts,
    counts_as_activity,
    status_of,
)
from aggregator.models import Finding, NewsItem, Village
from aggregator.settings import Settings

log = logging.getLogger(__name__)


def legit_news(now: datetime) -> Any:
    """SQL condition of a news item that counts as activity at `now` (as
    `aggregator.decide.status.counts_as_activity` says)."""
    return ~col(NewsItem.is_spam) & (col(NewsItem.published_at) <= now + FUTURE_GRACE)


def recent_news(now: datetime) -> Any:
    """SQL condition of a news item that is activity of the last RECENT_WINDOW (posts_30d)."""
    return legit_news(now) & (col(NewsItem.published_at) >= now - RECENT_WINDOW)


def compromised_counts(s: Session, codes: Sequence[str] | None = None) -> dict[str, int]:
    """Open compromised findings per village, of `codes` or of all (a suspicious finding
    waits for review and does not count)."""
    q = select(Finding.village_code, func.count()).where(
        Finding.status == "open", Finding.level == "compromised"
    )
    if codes is not None:
        q = q.where(col(Finding.village_code).in_(list(codes)))
    return dict(s.exec(q.group_by(Finding.village_code)).all())


def apply_status(
    v: Village, last_post_at: datetime | None, compromised: int, now: datetime, settings: Settings
) -> None:
    """Derive the village's status from its facts and store it (with the time it changed).
    Both the per-poll refresh and the scoring run come here."""
    facts = StatusFacts(
        has_site=bool(v.url),
        compromised=compromised > 0,
        consecutive_failures=v.consecutive_failures,
        consecutive_ok=v.consecutive_ok,
        last_post_at=last_post_at,
        previous=v.status if v.status_since is not None else None,
    )
    status = status_of(facts, now, settings)
    if status != v.status or v.status_since is None:
        if v.status_since is not None:
            # DEBUG: the poller logs a village's one INFO line per pass
            log.debug("village=%s url=%s: status %s -> %s", v.code, v.url, v.status, status)
        v.status, v.status_since = status, now


def add_to_counts(v: Village, fresh: list[dict[str, Any]], now: datetime) -> None:
    """The derived counts after inserting `fresh` rows, as `refresh_village` counts."""
    month_ago = now - RECENT_WINDOW
    legit = [
        r["published_at"] for r in fresh if counts_as_activity(r["is_spam"], r["published_at"], now)
    ]
    v.news_count += len(fresh)
    v.posts_30d += sum(1 for at in legit if at >= month_ago)
    if legit:
        newest = max(legit)
        last = v.last_post_at
        v.last_post_at = newest if last is None or last < newest else last


def refresh_village(
    s: Session,
    v: Village,
    now: datetime,
    settings: Settings,
    *,
    recount: bool = True,
    findings: int | None = None,
) -> None:
    """Recompute the derived columns of one village (last post, counts, status);
    without `recount` the news counts are taken as they are; `findings` is its number
    of open compromised findings when the caller already knows it."""
    if recount:
        s.flush()
        legit, recent = legit_news(now), recent_news(now)
        last_post, recent_count, count = s.exec(
            select(
                func.max(NewsItem.published_at).filter(legit),
                func.count(col(NewsItem.id)).filter(recent),
                func.count(col(NewsItem.id)),
            ).where(NewsItem.village_code == v.code)
        ).one()
        v.last_post_at = last_post
        v.posts_30d = int(recent_count)
        v.news_count = int(count)
    if findings is None:
        findings = compromised_counts(s, [v.code]).get(v.code, 0)
    apply_status(v, v.last_post_at, int(findings), now, settings)
