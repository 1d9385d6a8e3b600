"""The periodic-read rule (aggregator.clock.read_recently): each village reads its home page,
service pages and integrity scan at its own slot of each period, so a district first read in
one pass does not come due all at once again."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from aggregator.clock import phase_of, read_recently, settling

PERIOD = 6 * 3600.0
POLL = timedelta(minutes=30)


def _simulate(codes: list[str], days: int) -> tuple[dict[str, list[datetime]], Counter[datetime]]:
    """Every village polled every 30 minutes from one common first pass; each poll reads the
    part when read_recently says it is due. Returns reads per village and per pass."""
    start = datetime(2026, 12, 6, 0, 7, tzinfo=UTC)
    last = dict.fromkeys(codes, start)  # the first pass reads every village
    reads = {c: [start] for c in codes}
    per_pass: Counter[datetime] = Counter()
    now = start
    while now < start + timedelta(days=days):
        now += POLL
        for code in codes:
            if not read_recently(last[code], PERIOD, now, phase_of(code)):
                last[code] = now
                reads[code].append(now)
                per_pass[now] += 1
    return reads, per_pass


def test_reads_are_spread_over_the_period_after_a_common_first_pass() -> None:
    codes = [f"33.03.{k:02d}.{2000 + v}" for k in range(1, 19) for v in range(1, 14)]
    reads, per_pass = _simulate(codes, days=3)
    # No pass carries much more than its share (234 villages over 12 passes a period: ~20);
    # reading on age alone would read all 234 together every six hours.
    share = len(codes) / (PERIOD / POLL.total_seconds())
    assert max(per_pass.values()) <= 2.5 * share, per_pass.most_common(3)
    for code, times in reads.items():
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        assert gaps, code
        # Never sooner than half a period, never later than one and a half.
        assert min(gaps) >= PERIOD / 2 and max(gaps) <= 1.5 * PERIOD, gaps
        # After the first re-read the village keeps its slot: every period exactly.
        assert set(gaps[1:]) == {PERIOD}, (code, gaps)


def test_a_part_read_an_hour_ago_is_recent_and_one_a_period_and_a_half_old_is_not() -> None:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    for code in ("33.03.11.2005", "33.03.01.2001", "x"):
        phase = phase_of(code)
        assert 0 <= phase < 1
        assert read_recently(now - timedelta(hours=1), PERIOD, now, phase)
        assert not read_recently(now - timedelta(seconds=1.5 * PERIOD), PERIOD, now, phase)
        assert not read_recently(now + timedelta(minutes=5), PERIOD, now, phase)  # clock moved
    assert phase_of("33.03.11.2005") == phase_of("33.03.11.2005")
    assert len({round(phase_of(f"v{i}"), 3) for i in range(50)}) > 40


def test_a_district_onboarded_in_one_pass_settles_over_the_spread_one_slot_each() -> None:
    """A new village's never-read parts wait for its own slot of the first `spread`: each
    comes due once within it, and a district first polled together is spread over it."""
    first = datetime(2026, 12, 7, 8, 21, tzinfo=UTC)
    codes = [f"33.03.{k:02d}.{2000 + v}" for k in range(1, 19) for v in range(1, 14)]
    settled_at: dict[str, datetime] = {}
    now = first
    while now <= first + timedelta(seconds=PERIOD):
        for code in codes:
            if code not in settled_at and not settling(first, PERIOD, now, phase_of(code)):
                settled_at[code] = now
        now += POLL
    assert set(settled_at) == set(codes)  # every village within one spread
    assert all(settling(first, PERIOD, first, phase_of(c)) for c in codes)  # none at once
    for code, at in settled_at.items():
        # Its slot is where its phase puts it: the same slot its later reads keep.
        slot = (at - first).total_seconds()
        offset = (phase_of(code) * PERIOD - first.timestamp()) % PERIOD
        assert slot - POLL.total_seconds() < offset <= slot, (code, slot, offset)
    per_pass = Counter(settled_at.values())
    share = len(codes) / (PERIOD / POLL.total_seconds())
    assert max(per_pass.values()) <= 2.5 * share, per_pass.most_common(3)


def test_with_no_spread_nothing_waits() -> None:
    now = datetime(2026, 12, 7, 8, 21, tzinfo=UTC)
    assert not settling(now, 0, now, phase_of("33.03.01.2001"))
    assert settling(now, PERIOD, now + timedelta(seconds=1), 0.999)
    assert not settling(now - timedelta(seconds=PERIOD), PERIOD, now, 0.999)
