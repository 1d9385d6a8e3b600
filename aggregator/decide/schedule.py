"""Pure decisions: when to check a village next, given what its last poll did.

No I/O and no clock: `now` is an argument, so every rule is testable with plain values.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from aggregator.settings import Settings
from aggregator.types import Decision, PollOutcome, VillageForPoll


def spread(code: str, seconds: float) -> float:
    """A stable offset in [0, seconds) from the village code, so 10k sites don't fire at once."""
    digest = hashlib.sha256(code.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 * seconds


def backoff_seconds(failures: int, settings: Settings) -> float:
    """Exponential backoff after `failures` consecutive failures, capped at max_backoff.

    The first failure retries sooner than a normal poll would (a blip should not cost a
    whole interval); each further failure doubles the wait, never beyond 24 h by default.
    """
    if failures <= 0:
        return settings.poll_interval
    base = min(settings.poll_interval, 300.0)
    return float(min(base * 2 ** (failures - 1), settings.max_backoff))


def activity_interval(posts_30d: int, settings: Settings) -> float:
    """Seconds between polls of a healthy village, from how often it posts.

    A village posting twice a week or more is polled twice as often as the base interval;
    one silent for 30 days four times less often; always within [min, max]_interval.
    """
    if posts_30d >= 8:
        factor = 0.5
    elif posts_30d >= 1:
        factor = 1.0
    else:
        factor = 4.0
    seconds = settings.poll_interval * factor
    return float(min(max(seconds, settings.min_interval), settings.max_interval))


def decide(village: VillageForPoll, outcome: PollOutcome, settings: Settings) -> Decision:
    """Next schedule state for `village` after `outcome` (never drops a village)."""
    now = outcome.started_at
    if outcome.ok:
        new_items = len(outcome.harvest.items) if outcome.harvest else 0
        interval = activity_interval(village.posts_30d + (1 if new_items else 0), settings)
        # Up to 10 % jitter keeps villages that were polled together from staying in lockstep.
        jitter = spread(village.code + now.isoformat(), interval * 0.1)
        return Decision(
            now + timedelta(seconds=interval + jitter), 0, None, village.consecutive_ok + 1
        )
    if outcome.phase == "offline":
        # Our own network was down: not the village's failure; look again soon.
        wait = min(settings.poll_interval, 300.0)
        return Decision(
            now + timedelta(seconds=wait + spread(village.code, 60.0)),
            village.consecutive_failures,
            village.failing_since,
            village.consecutive_ok,
        )
    failures = village.consecutive_failures + 1
    since = village.failing_since or now
    wait = backoff_seconds(failures, settings)
    if outcome.retry_after is not None:  # the site said when to come back: honour it
        wait = min(max(wait, outcome.retry_after), settings.max_backoff)
    jitter = spread(village.code + str(failures), wait * 0.1)
    return Decision(now + timedelta(seconds=wait + jitter), failures, since, 0)


def first_check_at(code: str, now: datetime, settings: Settings) -> datetime:
    """When a newly configured village is first polled: soon, spread over one dispatch window."""
    return now + timedelta(seconds=spread(code, min(settings.poll_interval, 60.0)))
