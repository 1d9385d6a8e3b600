"""Pure scheduling decisions and status rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from aggregator.decide.schedule import activity_interval, backoff_seconds, decide, first_check_at
from aggregator.decide.status import StatusFacts, status_of
from aggregator.settings import Settings
from aggregator.types import PollOutcome, VillageForPoll

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
S = Settings(poll_interval=1800)


def _outcome(ok: bool) -> PollOutcome:
    return PollOutcome(
        "33.03.01.2001", NOW, 10, ok, None if ok else "connect", None if ok else "refused"
    )


def test_success_schedules_next_poll_by_activity_within_bounds() -> None:
    def wait(posts: int) -> timedelta:
        v = VillageForPoll(
            "33.03.01.2001", "http://x/", "auto", consecutive_failures=4, failing_since=NOW,
            posts_30d=posts, consecutive_ok=1,
        )  # fmt: skip
        d = decide(v, _outcome(True), S)
        assert d.consecutive_failures == 0 and d.failing_since is None
        assert d.consecutive_ok == 2
        return d.next_check_at - NOW

    busy, normal, silent = wait(12), wait(3), wait(0)
    assert timedelta(seconds=900) <= busy <= timedelta(seconds=990)  # 0.5 x 30 min
    assert timedelta(seconds=1800) <= normal <= timedelta(seconds=1980)
    assert timedelta(seconds=7200) <= silent <= timedelta(seconds=7920)  # 4 x 30 min
    assert activity_interval(0, Settings(poll_interval=86400)) == 86400  # max_interval
    assert activity_interval(50, Settings(poll_interval=60)) == 900  # min_interval


def test_failures_back_off_exponentially_and_cap_at_a_day_never_drop() -> None:
    waits = [backoff_seconds(n, S) for n in range(1, 12)]
    assert waits[:4] == [300, 600, 1200, 2400]
    assert all(b >= a for a, b in itertools.pairwise(waits))
    assert max(waits) == 86400
    v = VillageForPoll("33.03.01.2001", "http://x/", "auto")
    since = None
    for n in range(1, 15):
        d = decide(v, _outcome(False), S)
        assert d.consecutive_failures == n
        assert d.next_check_at - NOW <= timedelta(seconds=86400 * 1.1)
        since = since or d.failing_since
        assert d.failing_since == since == NOW
        v = VillageForPoll(v.code, v.url, v.platform, consecutive_failures=n, failing_since=since)


def test_first_checks_are_spread_but_stable() -> None:
    times = {first_check_at(f"33.03.01.{2000 + i}", NOW, S) for i in range(50)}
    assert len(times) > 40
    assert all(NOW <= t < NOW + timedelta(seconds=60) for t in times)
    assert first_check_at("33.03.01.2001", NOW, S) == first_check_at("33.03.01.2001", NOW, S)


def test_status_rules_first_match_wins() -> None:
    def status(**kw: object) -> str:
        args: dict[str, object] = dict(
            has_site=True, compromised=False, consecutive_failures=0, consecutive_ok=0,
            last_post_at=NOW - timedelta(days=3), previous=None,
        )  # fmt: skip
        args.update(kw)
        return status_of(StatusFacts(**args), NOW, S)  # type: ignore[arg-type]

    assert status() == "active"
    assert status(compromised=True, has_site=False) == "compromised"
    assert status(has_site=False) == "no_site"
    assert status(consecutive_failures=3) == "unreachable"
    assert status(consecutive_failures=2) == "active"
    # Hysteresis: back up only after recover_after (2) good checks in a row.
    assert status(previous="unreachable", consecutive_ok=1) == "unreachable"
    assert status(previous="unreachable", consecutive_ok=2) == "active"
    assert status(previous="unreachable", consecutive_ok=1, has_site=False) == "no_site"
    assert status(previous="active", consecutive_failures=1) == "active"
    assert status(last_post_at=NOW - timedelta(days=30)) == "active"
    assert status(last_post_at=NOW - timedelta(days=31)) == "low_activity"
    assert status(last_post_at=NOW - timedelta(days=90)) == "low_activity"
    assert status(last_post_at=NOW - timedelta(days=91)) == "inactive"
    assert status(last_post_at=None) == "inactive"
