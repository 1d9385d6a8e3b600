"""Distributed polling on a real PostgreSQL: three worker processes share one pass; a
worker killed mid-pass loses no village, and no village is polled twice. Dispatch and the
stalled-job recovery on their own: batches, villages already being polled, lock conflicts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import procrastinate
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from aggregator.fetch.client import Fetcher
from aggregator.models import Check, Village
from aggregator.poll.poller import Poller
from aggregator.service.worker import (
    POLL_TASK,
    QUEUE_AHEAD,
    Runtime,
    build_app,
    dispatch,
    ensure_schema,
    host_lock,
    retry_stalled,
    village_lock,
)
from aggregator.settings import parse_config
from aggregator.store import Store
from tests.conftest import FleetThread

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres]


def _count(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def _execute(url: str, sql: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.mark.slow
def _empty(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


VILLAGES = 6


def worker_command(config: Path, database: str, *, concurrency: int) -> list[str]:
    """`sipande worker` as a subprocess runs it (from the checkout)."""
    return [
        *(sys.executable, "-m", "aggregator", "worker"),
        *("--config", str(config), "--database", database),
        *("--concurrency", str(concurrency)),
    ]


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    """An empty database with VILLAGES villages (each its own host), all due now, and
    procrastinate's schema."""
    _empty(pg_url)
    villages = "\n".join(
        f'      - {{code: "33.03.01.{2001 + i}", name: "Uji {i}", '
        f'url: "http://127.0.0.1:{9000 + i}/index.php/feed", platform: feed}}'
        for i in range(VILLAGES)
    )
    config = parse_config(
        'kabupaten: {code: "33.03", name: Purbalingga}\n'
        "settings: {allow_private_addresses: true, request_timeout: 3s}\n"
        'kecamatan:\n  - code: "33.03.01"\n    name: Satu\n    villages:\n' + villages + "\n"
    )
    s = Store(pg_url, config.settings)
    s.migrate()
    s.sync_config(config, datetime.now(UTC))
    s.mark_all_due(datetime.now(UTC))
    app = build_app(pg_url)

    async def schema() -> None:
        async with app.open_async():
            await ensure_schema(app, pg_url)

    asyncio.run(schema())
    yield s
    s.close()


def _code(i: int) -> str:
    return f"33.03.01.{2001 + i}"


async def _defer_poll(rt: Runtime, i: int) -> int:
    url = f"http://127.0.0.1:{9000 + i}/index.php/feed"
    job = rt.app.configure_task(
        POLL_TASK, lock=host_lock(url), queueing_lock=village_lock(_code(i))
    )
    return await job.defer_async(code=_code(i), claimed_at=datetime.now(UTC).isoformat())


def test_dispatch_skips_villages_whose_poll_is_queued_or_running(pg_url: str, store: Store) -> None:
    """A claim whose lease ran out while its poll was still queued or running must not queue
    a second poll of that village; all the others are deferred (in one batch)."""

    async def go() -> tuple[int, list[tuple[object, ...]]]:
        app = build_app(pg_url)
        async with app.open_async(), Fetcher(store.settings) as fetcher:
            rt = Runtime(store, store.settings, Poller(store, fetcher, store.settings), app)
            running = await _defer_poll(rt, 0)
            await _defer_poll(rt, 1)  # queued
            await app.connector.execute_query_async(
                "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %(id)s", id=running
            )
            deferred = await dispatch(rt, datetime.now(UTC))
            again = await dispatch(rt, datetime.now(UTC))  # all claimed now: nothing due
            assert again == 0
            rows = await app.connector.execute_query_all_async(
                "SELECT args->>'code' AS code, status::text AS status, lock FROM procrastinate_jobs"
                " WHERE task_name = 'sipande:poll' ORDER BY 1, 2"
            )
            return deferred, [(r["code"], r["status"], r["lock"]) for r in rows]

    deferred, rows = asyncio.run(go())
    assert deferred == VILLAGES - 2
    assert [r[0] for r in rows] == [_code(i) for i in range(VILLAGES)]  # one job per village
    assert rows[0][1] == "doing"
    assert all(status == "todo" for _, status, _ in rows[1:])
    # Each village is its own host: dispatch sets no host lock (the two above were queued
    # with one by hand).
    assert [lock for _, _, lock in rows[2:]] == [None] * (VILLAGES - 2)


def _runtime(store: Store, app: procrastinate.App, fetcher: Fetcher, concurrency: int) -> Runtime:
    poller = Poller(store, fetcher, store.settings)
    return Runtime(store, store.settings, poller, app, concurrency=concurrency)


async def _jobs(app: procrastinate.App) -> list[tuple[str, str | None]]:
    rows = await app.connector.execute_query_all_async(
        "SELECT args->>'code' AS code, lock FROM procrastinate_jobs"
        " WHERE task_name = 'sipande:poll' AND status = 'todo' ORDER BY id"
    )
    return [(r["code"], r["lock"]) for r in rows]


def _still_due(url: str) -> set[str]:
    rows = _count(url, "SELECT code FROM village WHERE next_check_at <= now()")
    return {str(r[0]) for r in rows}


def test_dispatch_queues_only_a_bounded_number_of_polls_ahead(pg_url: str, store: Store) -> None:
    """The queue is kept QUEUE_AHEAD x the worker slots deep (one worker of concurrency 2
    here: 4 jobs); villages that don't fit stay unclaimed, and are queued once polls leave
    the queue."""
    assert QUEUE_AHEAD * 2 == 4

    async def go() -> tuple[list[int], list[set[str]]]:
        app = build_app(pg_url)
        async with app.open_async(), Fetcher(store.settings) as fetcher:
            rt = _runtime(store, app, fetcher, concurrency=2)
            deferred = [await dispatch(rt, datetime.now(UTC))]
            due = [_still_due(pg_url)]
            deferred.append(await dispatch(rt, datetime.now(UTC)))  # queue full: nothing
            first = [code for code, _ in await _jobs(app)]
            await app.connector.execute_query_async(  # a worker took three of them
                "UPDATE procrastinate_jobs SET status = 'doing' WHERE args->>'code' = ANY(%(c)s)",
                c=first[:3],
            )
            deferred.append(await dispatch(rt, datetime.now(UTC)))  # room for 3, 2 left
            due.append(_still_due(pg_url))
            return deferred, due

    deferred, due = asyncio.run(go())
    assert deferred == [4, 0, 2]
    assert len(due[0]) == VILLAGES - 4  # claimed only what was queued
    assert due[1] == set()


def test_dispatch_locks_only_hosts_shared_by_several_villages(pg_url: str, store: Store) -> None:
    """Two villages on one server get its host lock (one request at a time across workers);
    the villages with a host of their own get none, which keeps procrastinate's fetch cheap."""
    _execute(
        pg_url,
        f"UPDATE village SET url = 'http://127.0.0.1:9000/desa-{_code(1)}/feed'"
        f" WHERE code = '{_code(1)}' ",
    )

    async def go() -> list[tuple[str, str | None]]:
        app = build_app(pg_url)
        async with app.open_async(), Fetcher(store.settings) as fetcher:
            await dispatch(_runtime(store, app, fetcher, concurrency=8), datetime.now(UTC))
            return sorted(await _jobs(app))

    locks = dict(asyncio.run(go()))
    assert locks == {
        _code(0): "host:127.0.0.1:9000",
        _code(1): "host:127.0.0.1:9000",
        **{_code(i): None for i in range(2, VILLAGES)},
    }


def test_dispatch_queues_the_slowest_villages_first(pg_url: str, store: Store) -> None:
    """Claims go by the last check's duration, longest first, never-checked villages ahead
    of all (like the single-process poller's pass); jobs are fetched in that order."""
    now = datetime.now(UTC)
    durations = {0: 300, 1: 9000, 2: 50, 3: 2500}  # 4 and 5 never checked
    with Session(store.engine) as s:
        for i, ms in durations.items():
            s.add(Check(village_code=_code(i), started_at=now, duration_ms=ms, ok=True))
            village = s.get(Village, _code(i))
            assert village is not None
            village.last_checked_at = now
            s.add(village)
        s.commit()

    async def go() -> list[str]:
        app = build_app(pg_url)
        async with app.open_async(), Fetcher(store.settings) as fetcher:
            await dispatch(_runtime(store, app, fetcher, concurrency=8), datetime.now(UTC))
            return [code for code, _ in await _jobs(app)]

    order = asyncio.run(go())
    assert order[2:] == [_code(1), _code(3), _code(0), _code(2)]
    assert set(order[:2]) == {_code(4), _code(5)}


def test_retry_stalled_goes_on_past_a_village_polled_again_meanwhile(
    pg_url: str, store: Store
) -> None:
    """Two polls stalled on a dead worker; one village already has a newer poll queued, so its
    stalled job can't go back to the queue: it is ended, which frees its host lock, and the
    other stalled job is still re-queued."""

    async def go() -> tuple[int, dict[str, str]]:
        app = build_app(pg_url)
        async with app.open_async(), Fetcher(store.settings) as fetcher:
            rt = Runtime(store, store.settings, Poller(store, fetcher, store.settings), app)
            stalled = [await _defer_poll(rt, 0), await _defer_poll(rt, 1)]
            await app.connector.execute_query_async(
                "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = ANY(%(ids)s)",
                ids=stalled,
            )  # no worker_id: like a worker pruned after its heartbeat stopped
            newer = await _defer_poll(rt, 0)
            requeued = await retry_stalled(app)
            rows = await app.connector.execute_query_all_async(
                "SELECT id, status::text AS status FROM procrastinate_jobs"
            )
            status = {r["id"]: r["status"] for r in rows}
            return requeued, {
                "stalled_0": status[stalled[0]],
                "stalled_1": status[stalled[1]],
                "newer": status[newer],
            }

    requeued, status = asyncio.run(go())
    assert requeued == 1
    assert status == {"stalled_0": "failed", "stalled_1": "todo", "newer": "todo"}


def test_three_workers_one_killed_every_village_polled_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    _empty(pg_url)
    env = {**os.environ, "SIPANDE_DATABASE_URL": ""}
    workers: list[subprocess.Popen[bytes]] = []
    logs = []
    with FleetThread(n=24, seed=5) as ft:
        config = tmp_path / "fleet.yaml"
        config.write_text(ft.fleet.config_yaml(settings={"request_timeout": "3s"}))
        with_site = {v.code for v in ft.fleet.villages if ft.fleet.url(v.code)}
        try:
            for i in range(3):
                log = (tmp_path / f"worker{i}.log").open("wb")
                logs.append(log)
                workers.append(
                    subprocess.Popen(
                        worker_command(config, pg_url, concurrency=4),
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            deadline = time.monotonic() + 120  # a lost claim comes back when its lease ends
            killed = False
            polled: set[object] = set()
            while time.monotonic() < deadline:
                time.sleep(0.5)
                try:
                    polled = {r[0] for r in _count(pg_url, 'SELECT village_code FROM "check"')}
                except Exception:
                    continue  # schema not there yet
                if polled and not killed:
                    os.kill(workers[0].pid, signal.SIGKILL)  # mid-pass: jobs in flight
                    killed = True
                if polled >= with_site:
                    break
            assert killed
            missing = sorted(str(c) for c in with_site - polled)
            assert not missing, f"never polled: {missing}"
            time.sleep(3)  # let any duplicate poll show up
            dupes = _count(
                pg_url, 'SELECT village_code, count(*) FROM "check" GROUP BY 1 HAVING count(*) > 1'
            )
            assert dupes == []
            assert all(w.poll() is None for w in workers[1:])  # survivors still running
        finally:
            for w in workers:
                if w.poll() is None:
                    w.send_signal(signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    w.kill()
            for log in logs:
                log.close()
