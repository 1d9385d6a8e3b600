"""The kabupaten board's stored rank key (`village.board_key`, migration 0019) follows every
write of what it reads, whoever writes: a poll, a yardstick collection, an integrity finding
opened, resolved or deleted, a config change; and the time-dependent part (a village gone
quiet) moves a village with no write at all. Each time the board's walk is the order the
test computes from the raw rows (tests/test_pembinaan.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from aggregator.cli import poll_once
from aggregator.decide.scoring import Score
from aggregator.fetch.client import Fetcher
from aggregator.models import Finding, Village
from aggregator.settings import parse_config
from aggregator.store import Store
from aggregator.yardsticks import CoachingItem, KipFacts, SecurityFacts, YardstickReport
from aggregator.yardsticks.board import QUIET, RANK_STEP, UNRANKED, board_page
from aggregator.yardsticks.job import run_yardsticks
from fleet import Fleet
from tests.test_pembinaan import _expected_order, pg_url_or_skip

CONFIG = """kabupaten: {code: "33.03", name: Purbalingga}
kecamatan:
  - code: "33.03.01"
    name: Kemangkon
    villages:
      - {code: "33.03.01.2001", name: "Satu", url: "http://satu.example/"}
      - {code: "33.03.01.2002", name: "Dua", url: "http://dua.example/"}
      - {code: "33.03.01.2003", name: "Tiga", url: "http://tiga.example/"}
"""
A, B, C = "33.03.01.2001", "33.03.01.2002", "33.03.01.2003"


def _walk(store: Store, now: datetime, theme: str = "") -> list[str]:
    walked: list[str] = []
    while True:
        page = board_page(store.engine, now, theme=theme, offset=len(walked), limit=2)
        walked += [v["code"] for v in page.villages]
        if len(page.villages) < 2:
            return walked


def _in_order(store: Store, now: datetime) -> list[str]:
    """The board's walk, checked against the order computed from the raw rows."""
    for theme in ("", "aktivitas", "keamanan", "integritas", "keterbukaan"):
        assert _walk(store, now, theme) == _expected_order(store, now, theme, None), theme
    return _walk(store, now)


def _keys(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {c: k for c, k in conn.execute(text("SELECT code, board_key FROM village"))}


def _report(*, expired: bool = False, items: int = 0) -> YardstickReport:
    security = SecurityFacts(
        has_site=True, https_offered=True, https_enforced=None,
        cert_problem="expired" if expired else None, cert_days_left=200, domain_days_left=300,
    )  # fmt: skip
    kip = KipFacts(True, 2026, None, None, None, ())
    todo = tuple(CoachingItem(f"k{n}", "keterbukaan", f"Hal {n}") for n in range(items))
    score = Score(50.0, ())
    return YardstickReport("", datetime.now(UTC), kip, score, security, score, None, None, todo)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/key.db"
    else:
        from tests.test_worker import _empty

        url = pg_url_or_skip()
        _empty(url)
    config = parse_config(CONFIG, "key.yaml")
    s = Store(url, config.settings)
    s.migrate()
    s.sync_config(config, datetime.now(UTC))
    yield s
    s.close()


def _set_post(store: Store, code: str, at: datetime | None) -> None:
    with Session(store.engine) as s:
        v = s.get(Village, code)
        assert v is not None
        v.last_post_at = at
        s.add(v)
        s.commit()


def test_collections_and_findings_move_a_village(store: Store) -> None:
    now = datetime.now(UTC)
    for code in (A, B, C):
        _set_post(store, code, now - timedelta(days=2))
    assert _keys(store) == {A: UNRANKED, B: UNRANKED, C: UNRANKED}
    assert _in_order(store, now) == []  # every one active, nothing collected: nothing to do
    earlier = now - timedelta(hours=1)
    store.record_yardsticks(C, _report(items=3), earlier)  # three to-dos
    store.record_yardsticks(B, _report(items=1), earlier)
    assert _keys(store)[C] == 5 * RANK_STEP - 3
    assert _in_order(store, now) == [C, B]  # most to-dos first
    store.record_yardsticks(B, _report(expired=True, items=1), now)  # a newer collection
    assert _in_order(store, now) == [B, C]  # an expired certificate before any to-do
    with Session(store.engine) as s:
        s.add(Finding(village_code=C, kind="judi_online", first_seen=now, last_seen=now))
        s.commit()
    assert _keys(store)[C] == -3 and _in_order(store, now) == [C, B]  # a finding: first
    with Session(store.engine) as s:
        finding = s.exec(select(Finding)).one()
        finding.status = "resolved"
        s.add(finding)
        s.commit()
    assert _in_order(store, now) == [B, C]  # resolved: back in its place
    with Session(store.engine) as s:
        s.add(Finding(village_code=A, kind="judi_online", first_seen=now, last_seen=now))
        s.commit()
    assert _in_order(store, now) == [A, B, C]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM finding WHERE village_code = :c"), {"c": A})
    assert _keys(store)[A] == UNRANKED and _in_order(store, now) == [B, C]


def test_a_village_going_quiet_moves_with_no_write(store: Store) -> None:
    now = datetime.now(UTC)
    _set_post(store, A, now - timedelta(days=29))
    _set_post(store, B, None)
    _set_post(store, C, now - timedelta(days=1))
    store.record_yardsticks(C, _report(items=1), now)
    assert _in_order(store, now) == [C, B]  # B never posted: quiet after C's to-do
    later = now + timedelta(days=2)  # A's last post is now 31 days old
    keys = _keys(store)
    assert _in_order(store, later) == [C, A, B]
    assert _keys(store) == keys and keys[A] == UNRANKED  # nothing was written
    row = board_page(store.engine, later, offset=1, limit=1).villages[0]
    assert row["code"] == A and QUIET < UNRANKED
    # The scoring job agrees (its status moves too) and leaves the board as it was.
    store.score_all(later)
    assert _in_order(store, later) == [C, A, B]


def test_config_changes_move_a_village(store: Store) -> None:
    now = datetime.now(UTC)
    assert _in_order(store, now) == [A, B, C]  # never posted: quiet, by code
    config = parse_config(CONFIG.replace("http://dua.example/", ""), "key.yaml")
    store.sync_config(config, now)
    assert _keys(store)[B] == 0 and _in_order(store, now) == [B, A, C]  # no site: make one
    store.sync_config(parse_config(CONFIG, "key.yaml"), now)
    assert _keys(store)[B] == UNRANKED and _in_order(store, now) == [A, B, C]


def test_a_poll_and_a_yardstick_run_move_villages(tmp_path: Path) -> None:
    kinds = ["opensid-2410-esensi"] * 3

    async def run() -> None:
        async with Fleet.of_kinds(kinds, seed=4) as fleet:
            settings = {"request_timeout": "2s", "connect_timeout": "2s", "first_read_spread": 0}
            config = parse_config(fleet.config_yaml(settings=settings), "fleet.yaml")
            store = Store(f"sqlite:///{tmp_path}/poll.db", config.settings)
            store.migrate()
            store.sync_config(config, datetime.now(UTC))
            codes = [v.code for v in fleet.villages]
            now = datetime.now(UTC)
            assert _in_order(store, now) == sorted(codes)  # never read: quiet, by code
            fleet.set_behaviour(codes[1], "judol_hidden_links")
            await poll_once(config, store)
            now = datetime.now(UTC)
            with Session(store.engine) as s:
                flagged = {f.village_code for f in s.exec(select(Finding)) if f.status == "open"}
            assert flagged == {codes[1]}
            assert _in_order(store, now) == [codes[1]]  # the others post: nothing to do
            async with Fetcher(config.settings) as fetcher:
                await run_yardsticks(store, fetcher, config.settings)
            walked = _in_order(store, datetime.now(UTC))
            assert walked[0] == codes[1] and sorted(walked) == sorted(codes)
            store.close()

    asyncio.run(run())


def test_the_migration_s_frozen_thresholds_are_the_coaching_defaults() -> None:
    """Migration 0019 spells the certificate and domain thresholds out; the board's live
    rules use CoachingSettings' defaults. A change of those defaults needs a new migration
    that recomputes the stored key, or the stored order and the shown to-dos disagree."""
    import importlib

    from aggregator.yardsticks.coaching import CoachingSettings

    migration = importlib.import_module("aggregator.migrations.versions.0019_village_board_key")
    defaults = CoachingSettings()
    assert (
        defaults.cert_days,
        defaults.domain_days,
    ) == (migration.CERT_DAYS, migration.DOMAIN_DAYS)
