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


def decide(village: VillageForPoll, outcome: PollOutcome, settings: Settings) -> Decision:
    """Next schedule state for `village` after `outcome` (never drops a village)."""
    now = outcome.started_at
    if outcome.ok:
        interval = settings.poll_interval
        # Up to 10 % jitter keeps villages that were polled together from staying in lockstep.
        jitter = spread(village.code + now.isoformat(), interval * 0.1)
        return Decision(now + timedelta(seconds=interval + jitter), 0, None)
    failures = village.consecutive_failures + 1
    since = village.failing_since or now
    wait = backoff_seconds(failures, settings)
    jitter = spread(village.code + str(failures), wait * 0.1)
    return Decision(now + timedelta(seconds=wait + jitter), failures, since)


def first_check_at(code: str, now: datetime, settings: Settings) -> datetime:
    """When a newly configured village is first polled: soon, spread over one dispatch window."""
    return now + timedelta(seconds=spread(code, min(settings.poll_interval, 60.0)))
