"""APScheduler 3 runs a handful of jobs: the dispatcher tick and housekeeping.

Never one job per village: the village table is the schedule (specs/polling.md §4).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from aggregator.poller import Poller
from aggregator.store import Store


def build_scheduler(poller: Poller, store: Store) -> AsyncIOScheduler:
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

    async def refresh_statuses() -> None:
        await asyncio.to_thread(store.refresh_statuses, datetime.now(UTC))

    async def prune_checks() -> None:
        await asyncio.to_thread(store.prune_checks, datetime.now(UTC))

    scheduler.add_job(refresh_statuses, "interval", minutes=10, id="refresh_statuses")
    scheduler.add_job(
        prune_checks,
        "interval",
        hours=24,
        id="prune_checks",
        next_run_time=now + timedelta(minutes=5),
    )
    return scheduler
