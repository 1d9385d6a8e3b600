"""Past days read from a news archive: what a village's status and score were on each day
before its first poll, as far as its publication dates tell.

A day is judged at its end (00:00 WIB of the next day) with the same rules as today:
`aggregator.decide.status.status_of` for the status and `aggregator.decide.scoring` for the
score. Only the archive's facts are known for a past day (the newest post before that
moment, the posts of the RECENT_WINDOW before it); availability, services and engagement
are unknown and left out of the score, as scoring does for any unknown. A day before the
archive's first post says nothing and is not judged.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.clock import wib_day_start
from aggregator.decide.scoring import VillageFacts, decay, score_village
from aggregator.decide.status import RECENT_WINDOW, StatusFacts, status_of
from aggregator.settings import Settings

# How far back a first poll reconstructs (and the trends can then show): a year.
RECONSTRUCT_DAYS = 365


@dataclass(frozen=True)
class ArchiveDay:
    """One WIB day of a village's archive: its posts that count as activity, and the
    newest publication time among them."""

    day: date
    posts: int
    newest: datetime


@dataclass(frozen=True)
class PastDay:
    day: date
    status: str
    score: float
    components: dict[str, float]  # points of the known components only


def day_facts(last_post: datetime | None, posts_30d: int, at: datetime) -> VillageFacts:
    """The scoring facts an archive gives at `at`: freshness and cadence, nothing else."""
    since = (at - last_post).total_seconds() / 86400 if last_post else None
    return VillageFacts(
        has_site=True,
        compromised=False,
        days_since_post=since,
        posts_30d=posts_30d,
        checks=0,
        checks_ok=0,
    )


def archive_status(last_post: datetime | None, at: datetime, settings: Settings) -> str:
    """The status at `at` from the archive alone (a site that answered, no finding)."""
    facts = StatusFacts(
        has_site=True,
        compromised=False,
        consecutive_failures=0,
        consecutive_ok=0,
        last_post_at=last_post,
        previous=None,
    )
    return status_of(facts, at, settings)


def past_days(
    archive: Sequence[ArchiveDay], first: date, last: date, settings: Settings
) -> Iterator[PastDay]:
    """Each day from `first` (or the archive's first day, if later) to `last`, judged at its
    end; `archive` is sorted by day. Days of posts before `first` count for the window."""
    if not archive:
        return
    window = RECENT_WINDOW.days
    day = max(first, archive[0].day)
    i = 0
    newest: datetime | None = None
    recent: deque[ArchiveDay] = deque()  # archive days within the window of `day`
    posts = 0  # their posts
    sc = settings.scoring
    # A past day's score depends only on its freshness and its posts: days alike (a steady
    # poster's, a silent site's) are scored once.
    scored: dict[tuple[float | None, int], tuple[float, dict[str, float]]] = {}
    while day <= last:
        while i < len(archive) and archive[i].day <= day:
            recent.append(archive[i])
            posts += archive[i].posts
            newest = archive[i].newest if newest is None else max(newest, archive[i].newest)
            i += 1
        oldest = day - timedelta(days=window - 1)
        while recent and recent[0].day < oldest:
            posts -= recent.popleft().posts
        at = wib_day_start(day + timedelta(days=1))
        since = None if newest is None else (at - newest).total_seconds() / 86400
        key = (None if since is None else decay(since, sc.fresh_days, sc.stale_days), posts)
        if key not in scored:
            result = score_village(day_facts(newest, posts, at), sc)
            known = {c.key: c.points for c in result.components if c.value is not None}
            scored[key] = (result.score, known)
        score, known = scored[key]
        yield PastDay(day, archive_status(newest, at, settings), score, dict(known))
        day += timedelta(days=1)
