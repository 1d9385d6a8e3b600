"""The background jobs, in one table that both runners read: the embedded scheduler
(`scheduler.py`, one process) and the distributed workers (`worker.py`, procrastinate on
PostgreSQL). A job added here runs in both modes.

Each job runs soon after a process starts, then on its cadence: `every` for the embedded
scheduler, `cron` for the workers (procrastinate's periodic tasks, deferred once across all
workers). A job marked `each_process` concerns the process itself (its copy of the config)
and runs in every worker on its own clock instead. `then` names a job to run after a run that
reported a change (a reloaded config is scored at once).

Polling itself is not here: the embedded dispatcher (`Poller.dispatch_due`) and the workers'
dispatch task differ by design (one process versus a shared queue).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.poll.poller import Poller
from aggregator.service.reload import ConfigReloader
from aggregator.settings import Settings
from aggregator.store import Store


class JobHost:
    """What a job needs of the process running it: the store, the poller (its fetcher and
    the settings in force) and, when a districts file is followed, its reloader."""

    def __init__(
        self,
        store: Store,
        poller: Poller,
        *,
        config_path: str | Path | None = None,
        on_settings: Callable[[Settings], None] | None = None,
    ) -> None:
        self.store = store
        self.poller = poller
        self._on_settings = on_settings
        self.reloader = (
            ConfigReloader(config_path, store, on_settings=self._apply) if config_path else None
        )

    def _apply(self, settings: Settings) -> None:
        self.poller.settings = settings
        self.poller.fetcher.settings = settings
        if self._on_settings is not None:
            self._on_settings(settings)


async def score(host: JobHost) -> int:
    """Scores and statuses move with time alone (a quiet village goes inactive), so they
    are recomputed on a clock, not only after polls."""
    return await asyncio.to_thread(host.store.score_all, datetime.now(UTC))


async def rollup_checks(host: JobHost) -> int:
    return await asyncio.to_thread(host.store.rollup_checks, datetime.now(UTC))


async def prune(host: JobHost) -> None:
    """Raw checks and old roll-ups past their keep."""
    await asyncio.to_thread(host.store.prune_history, datetime.now(UTC))


async def yardsticks(host: JobHost) -> int:
    """KIP and Keamanan Digital for the villages due, with their certificate and domain
    expiry alerts."""
    from aggregator.yardsticks.job import run_yardsticks

    return await run_yardsticks(host.store, host.poller.fetcher, host.poller.settings)


async def alerts(host: JobHost) -> None:
    """Status changes become events, the weekly digest when due, queued alerts sent (off
    the poll path: a failing target never holds a poll up)."""
    from aggregator.alerts.job import run_alerts

    await run_alerts(host.store, host.poller.fetcher, host.poller.settings, datetime.now(UTC))


async def reload_config(host: JobHost) -> bool:
    """Take an edited districts file; whether a new config was applied."""
    if host.reloader is None:
        return False
    return await asyncio.to_thread(host.reloader.check) is not None


@dataclass(frozen=True)
class Job:
    name: str  # also the procrastinate task name (`sipande:<name>`) and the scheduler job id
    every: timedelta
    cron: str
    run: Callable[[JobHost], Awaitable[object]]
    each_process: bool = False
    needs_config: bool = False  # only where a districts file is followed
    then: str | None = None


JOBS: tuple[Job, ...] = (
    Job("score", timedelta(minutes=10), "*/10 * * * *", score),
    Job("rollup_checks", timedelta(minutes=30), "*/30 * * * *", rollup_checks),
    Job("prune", timedelta(hours=24), "17 3 * * *", prune),
    Job("yardsticks", timedelta(hours=1), "7 * * * *", yardsticks),
    Job("alerts", timedelta(seconds=60), "* * * * *", alerts),
    Job(
        "reload_config",
        timedelta(seconds=30),
        "* * * * * */30",
        reload_config,
        each_process=True,
        needs_config=True,
        then="score",
    ),
)
BY_NAME = {job.name: job for job in JOBS}
FIRST_RUN_DELAY = timedelta(seconds=20)  # after a process starts: let the first polls in


def jobs_for(host: JobHost, *, each_process: bool | None = None) -> list[Job]:
    """The jobs this host runs (`each_process` None: all of them)."""
    return [
        job
        for job in JOBS
        if (host.reloader is not None or not job.needs_config)
        and (each_process is None or job.each_process == each_process)
    ]
