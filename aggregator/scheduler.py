"""APScheduler 3 runs a handful of jobs: the dispatcher tick and housekeeping.

Never one job per village: the village table is the schedule (specs/polling.md §4).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from aggregator.poller import Poller
from aggregator.settings import Settings
from aggregator.store import Store

ALERTS_EVERY = 60  # seconds between runs of the alerts job (status changes, digest, sends)


def build_scheduler(
    poller: Poller, store: Store, *, config_path: str | None = None
) -> AsyncIOScheduler:
    settings = poller.settings
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        # A late tick under load is run, not dropped (APScheduler's default grace is 1 s).
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 120},
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        poller.dispatch_due,
        "interval",
        seconds=settings.dispatch_interval,
        id="dispatch",
        next_run_time=now,
        jitter=2,
    )

    async def score() -> None:
        # Scores and statuses move with time alone (a quiet village goes inactive), so
        # they are recomputed on a clock, not only after polls.
        await asyncio.to_thread(store.score_all, datetime.now(UTC))

    async def rollup() -> None:
        await asyncio.to_thread(store.rollup_checks, datetime.now(UTC))

    async def prune() -> None:
        await asyncio.to_thread(store.prune_history, datetime.now(UTC))

    async def yardsticks() -> None:
        from aggregator.yardstick_job import run_yardsticks

        await run_yardsticks(store, poller.fetcher, poller.settings)

    async def alerts() -> None:
        from aggregator.alerts.job import run_alerts

        await run_alerts(store, poller.fetcher, poller.settings, datetime.now(UTC))

    soon = now + timedelta(seconds=20)
    scheduler.add_job(alerts, "interval", seconds=ALERTS_EVERY, id="alerts", next_run_time=soon)
    scheduler.add_job(yardsticks, "interval", hours=1, id="yardsticks", next_run_time=soon)
    scheduler.add_job(score, "interval", minutes=10, id="score", next_run_time=soon)
    scheduler.add_job(rollup, "interval", minutes=30, id="rollup_checks", next_run_time=soon)
    scheduler.add_job(prune, "interval", hours=24, id="prune", next_run_time=soon)
    if config_path:
        from aggregator.reload import ConfigReloader

        def apply(settings: Settings) -> None:
            poller.settings = settings
            poller.fetcher.settings = settings

        reloader = ConfigReloader(config_path, store, on_settings=apply)

        async def reload() -> None:
            if await asyncio.to_thread(reloader.check) is not None:
                await score()  # new weights or windows show on the dashboard at once

        scheduler.add_job(reload, "interval", seconds=30, id="reload_config")
    return scheduler
