"""Distributed polling on PostgreSQL with procrastinate (DESIGN §8): any number of worker
processes on any number of machines run the same poll code path as the embedded mode.

- `sipande.dispatch` (periodic, every second; one at a time across workers) claims due
  villages with a lease, slowest first, and defers one `sipande.poll` job each, with a
  queueing lock per village (never two pending polls of one village). It only tops the
  queue up to a couple of jobs per worker slot: procrastinate's job fetch checks queued
  jobs' locks against the others, so its cost grows with the queue, and villages not
  queued yet stay unclaimed, to be taken in the best order when there is room. A host
  serving several villages gets a lock on their polls (one request at a time per server,
  across workers); a village on its own host needs none. Only already-due jobs are
  deferred: a future-dated job holding a lock would block that host (procrastinate docs).
- `sipande.poll` polls and records one village. Site failures are results, not task
  failures; only our own infrastructure errors (database down) are retried.
- A worker that dies mid-poll loses nothing: the village's lease expires and the next
  dispatch claims it again; stalled jobs are also re-queued from worker heartbeats.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy import text
from sqlalchemy.engine import make_url

from aggregator.fetch import Fetcher
from aggregator.poller import Poller
from aggregator.settings import Settings
from aggregator.store import Store

log = logging.getLogger(__name__)

blueprint = procrastinate.Blueprint()
SCHEMA_LOCK = 727171  # pg advisory lock id guarding procrastinate's schema creation


@dataclass
class Runtime:
    """What a worker process shares between its jobs."""

    store: Store
    settings: Settings
    poller: Poller
    app: procrastinate.App
    concurrency: int = 32  # this worker's poll slots; dispatch sizes the queue from it
    shared_hosts: tuple[float, frozenset[str]] | None = None  # (monotonic time read, hosts)


def conninfo(database_url: str) -> str:
    """A libpq conninfo from our SQLAlchemy-style PostgreSQL URL."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError("workers need a PostgreSQL database (SIPANDE_DATABASE_URL=postgresql://…)")
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def build_app(database_url: str) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    )
    app.add_tasks_from(blueprint, namespace="sipande")
    return app


def host_lock(url: str) -> str:
    return "host:" + (urlsplit(url).netloc.lower() or url)


def _runtime(context: procrastinate.JobContext) -> Runtime:
    runtime: Runtime = context.additional_context["runtime"]
    return runtime


@blueprint.task(
    name="poll", pass_context=True, retry=procrastinate.RetryStrategy(max_attempts=3, wait=5)
)
async def poll_task(context: procrastinate.JobContext, code: str, claimed_at: str) -> bool:
    rt = _runtime(context)
    checked = await asyncio.to_thread(rt.store.last_checked_at, code)
    if checked is not None and checked >= datetime.fromisoformat(claimed_at):
        # A worker recorded this poll and died before marking the job done; the retried
        # job must not poll the village a second time.
        return True
    found = await asyncio.to_thread(
        rt.store.due_villages, datetime.now(UTC), codes=[code], all_villages=True
    )
    if not found:
        return False  # removed from the config since it was queued
    outcome, _new = await rt.poller.poll_and_record(found[0])
    return outcome.ok


POLL_TASK = "sipande:poll"
DEFER_BATCH = 1000  # jobs per INSERT; one round trip each instead of one per village
QUEUE_AHEAD = 2  # poll jobs queued ahead, per slot of the live workers (bounds the queue)
SHARED_HOSTS_TTL = 60.0  # seconds a worker reuses its list of hosts shared by villages
LIVE_WORKER_S = 20  # a worker whose heartbeat is older is dead (stalled_worker_timeout)

_POLLS_PENDING = """
SELECT queueing_lock FROM procrastinate_jobs
 WHERE task_name = %(task)s AND status IN ('todo', 'doing') AND queueing_lock = ANY(%(locks)s)
"""
_QUEUE_STATE = """
SELECT (SELECT count(*) FROM procrastinate_jobs WHERE task_name = %(task)s AND status = 'todo')
         AS todo,
       (SELECT count(*) FROM procrastinate_workers
         WHERE last_heartbeat > now() - make_interval(secs => %(live)s)) AS workers
"""
# The netloc the way urlsplit cuts it (up to the first / ? #), lower-cased: host_lock's key.
_SHARED_HOSTS = text(
    """
SELECT host FROM (
  SELECT lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)')) AS host
    FROM village WHERE in_config AND url <> ''
) AS hosts WHERE host <> '' GROUP BY host HAVING count(*) > 1
"""
)


def village_lock(code: str) -> str:
    return f"village:{code}"


def _shared_hosts(rt: Runtime, now: float) -> frozenset[str]:
    """Hosts that serve more than one village (`host:<netloc>` keys), cached a while.

    Most villages have a domain of their own; their polls need no procrastinate lock, since
    the queueing lock and the pending check already keep a village to one poll at a time.
    A lock costs every job fetch a scan of the queue for its peers, so only the polls of a
    shared host carry one (one request at a time to that server, across workers)."""
    if rt.shared_hosts is None or now - rt.shared_hosts[0] > SHARED_HOSTS_TTL:
        with rt.store.engine.connect() as conn:
            hosts = frozenset("host:" + row[0] for row in conn.execute(_SHARED_HOSTS))
        rt.shared_hosts = (now, hosts)
    return rt.shared_hosts[1]


async def _queue_room(rt: Runtime) -> int:
    """How many poll jobs may be queued now: the queue is kept QUEUE_AHEAD x the slots of
    the live workers deep (workers assumed to run with this one's concurrency). A short
    queue keeps procrastinate's job fetch cheap (it checks each queued job's lock against
    the others) and villages not queued yet stay unclaimed, free for whichever dispatch
    comes next, in the order `claim_due` picks (slowest first)."""
    row = await rt.app.connector.execute_query_one_async(
        _QUEUE_STATE, task=POLL_TASK, live=LIVE_WORKER_S
    )
    target = QUEUE_AHEAD * max(1, int(row["workers"])) * rt.concurrency
    return max(0, target - int(row["todo"]))


async def dispatch(rt: Runtime, now: datetime) -> int:
    """Claim due villages and defer their polls; returns how many were deferred.

    Only as many villages are claimed as the queue has room for (see `_queue_room`); the
    dispatch task runs every second, so the queue is topped up long before it runs dry.
    Villages that already have a poll queued or running are skipped: a claim can outlive
    its lease (every worker down for a while), and a second job for a village being polled
    would poll it again as soon as the first is done. The rest are deferred in batches, so
    many claims are queued in moments, not one round trip each (a worker dying mid-dispatch
    would otherwise strand the claims not yet deferred until their lease ends)."""
    room = await _queue_room(rt)
    if room <= 0:
        return 0
    # Longer than any one poll may take: connector (3 deadlines) + integrity scan (6) + margin.
    lease = rt.settings.request_timeout * 10 + 10
    due = await asyncio.to_thread(rt.store.claim_due, now, lease, room)
    if not due:
        return 0
    rows = await rt.app.connector.execute_query_all_async(
        _POLLS_PENDING, task=POLL_TASK, locks=[village_lock(v.code) for v in due]
    )
    pending = {row["queueing_lock"] for row in rows}
    shared = await asyncio.to_thread(_shared_hosts, rt, time.monotonic())
    jobs = []
    for v in due:  # in claim order (slowest first): job ids, hence fetch order, follow it
        if village_lock(v.code) in pending:
            continue
        host = host_lock(v.url)
        jobs.append(
            rt.app.configure_task(
                POLL_TASK,
                lock=host if host in shared else None,
                queueing_lock=village_lock(v.code),
            ).make_new_job(code=v.code, claimed_at=now.isoformat())
        )
    deferred = 0
    for start in range(0, len(jobs), DEFER_BATCH):
        batch = jobs[start : start + DEFER_BATCH]
        try:
            await rt.app.job_manager.batch_defer_jobs_async(batch)
            deferred += len(batch)
        except AlreadyEnqueued:  # one was queued meanwhile: the batch is all or nothing
            for job in batch:
                try:
                    await rt.app.job_manager.defer_job_async(job)
                    deferred += 1
                except AlreadyEnqueued:
                    pass  # one pending poll per village is enough
    if deferred or pending:
        log.info("dispatch: %d polls deferred, %d already pending", deferred, len(pending))
    return deferred


# Every second, ahead of the polls (priority), one at a time across workers (lock).
@blueprint.periodic(cron="* * * * * *", periodic_id="dispatch")
@blueprint.task(
    name="dispatch", pass_context=True, queueing_lock="dispatch", lock="dispatch", priority=10
)
async def dispatch_task(context: procrastinate.JobContext, timestamp: int) -> int:
    return await dispatch(_runtime(context), datetime.now(UTC))


@blueprint.periodic(cron="*/10 * * * *", periodic_id="score")
@blueprint.task(name="score", pass_context=True, queueing_lock="score")
async def score_task(context: procrastinate.JobContext, timestamp: int) -> int:
    rt = _runtime(context)
    now = datetime.now(UTC)
    await asyncio.to_thread(rt.store.rollup_checks, now)
    return await asyncio.to_thread(rt.store.score_all, now)


@blueprint.periodic(cron="17 3 * * *", periodic_id="prune")
@blueprint.task(name="prune", pass_context=True, queueing_lock="prune")
async def prune_task(context: procrastinate.JobContext, timestamp: int) -> None:
    """Daily, once across workers: raw checks and old roll-ups past their keep (as the
    embedded scheduler does)."""
    await asyncio.to_thread(_runtime(context).store.prune_history, datetime.now(UTC))


@blueprint.periodic(cron="* * * * *", periodic_id="alerts")
@blueprint.task(name="alerts", pass_context=True, queueing_lock="alerts", lock="alerts")
async def alerts_task(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every minute, once across workers: status events, the digest, due alert sends."""
    from aggregator.alerts.job import run_alerts

    rt = _runtime(context)
    await run_alerts(rt.store, rt.poller.fetcher, rt.settings, datetime.now(UTC))


RELOAD_SECONDS = 30.0


def config_watcher(rt: Runtime, path: str) -> Callable[[], Awaitable[bool]]:
    """A check of the districts file for this worker: when it changed, the store is synced
    (serialised across workers by the database) and this worker's poller, fetcher and
    html rules take the new settings. Returns whether a new config was applied."""
    from aggregator.reload import ConfigReloader

    def apply(settings: Settings) -> None:
        rt.settings = settings
        rt.poller.settings = settings
        rt.poller.fetcher.settings = settings

    reloader = ConfigReloader(path, rt.store, on_settings=apply)

    async def check() -> bool:
        return await asyncio.to_thread(reloader.check) is not None

    return check


async def watch_config(check: Callable[[], Awaitable[bool]]) -> None:
    while True:
        await asyncio.sleep(RELOAD_SECONDS)
        try:
            await check()
        except Exception:  # a database hiccup: try again next time
            log.exception("config reload failed")


async def retry_stalled(app: procrastinate.App) -> int:
    """Re-queue the jobs of workers whose heartbeat stopped (documented procrastinate recipe).

    A stalled poll whose village got a new poll queued meanwhile (its claim's lease ran out
    first, e.g. every worker was down for a while) can't go back to the queue: the queueing
    lock allows one pending poll per village. It is ended as failed instead, which also frees
    its host lock; left `doing`, it would block every later poll of that host for good."""
    manager = app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=20))
    requeued = 0
    for job in stalled:
        assert job.id is not None
        try:
            await manager.retry_job(job)
            requeued += 1
        except UniqueViolation:
            log.info("stalled job %s: a newer one is queued for %s", job.id, job.queueing_lock)
            await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
    return requeued


@blueprint.periodic(cron="* * * * * */15", periodic_id="stalled")
@blueprint.task(name="retry_stalled", pass_context=True, queueing_lock="retry_stalled")
async def retry_stalled_task(context: procrastinate.JobContext, timestamp: int) -> int:
    return await retry_stalled(_runtime(context).app)


async def ensure_schema(app: procrastinate.App, database_url: str) -> None:
    """Apply procrastinate's schema once, even when every worker starts at the same time."""
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            row = await cur.fetchone()
            if not (row and row[0]):
                await app.schema_manager.apply_schema_async()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


async def run_worker(
    store: Store,
    settings: Settings,
    database_url: str,
    *,
    concurrency: int,
    config_path: str | None = None,
    **options: Any,
) -> None:
    """Run one worker process until cancelled; with `config_path` it follows edits of the
    districts file as the embedded scheduler does."""
    app = build_app(database_url)
    async with app.open_async(), Fetcher(settings) as fetcher:
        await ensure_schema(app, database_url)
        runtime = Runtime(
            store, settings, Poller(store, fetcher, settings), app, concurrency=concurrency
        )
        watcher = None
        if config_path:
            watcher = asyncio.create_task(watch_config(config_watcher(runtime, config_path)))
        try:
            await app.run_worker_async(
                concurrency=concurrency,
                additional_context={"runtime": runtime},
                delete_jobs="successful",
                update_heartbeat_interval=5.0,
                stalled_worker_timeout=20.0,
                **options,
            )
        finally:
            if watcher is not None:
                watcher.cancel()
