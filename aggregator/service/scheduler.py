"""APScheduler 3 runs a handful of jobs: the dispatcher tick and the background jobs of
`aggregator.service.jobs` (the same table the distributed workers run).

Never one job per village: the village table is the schedule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from aggregator.poll.poller import Poller
from aggregator.service.jobs import BY_NAME, FIRST_RUN_DELAY, Job, JobHost, jobs_for
from aggregator.store import Store


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
    host = JobHost(store, poller, config_path=config_path)
    for job in jobs_for(host):
        first = now + (job.every if job.each_process else FIRST_RUN_DELAY)
        scheduler.add_job(
            _runner(job, host),
            "interval",
            seconds=job.every.total_seconds(),
            id=job.name,
            name=job.name,
            next_run_time=first,
        )
    return scheduler


def _runner(job: Job, host: JobHost) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        if await job.run(host) and job.then:
            await BY_NAME[job.then].run(host)

    return run
