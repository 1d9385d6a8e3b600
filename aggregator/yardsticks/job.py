"""The daily yardsticks run: collect KIP and security for villages whose last
collection is older than `yardstick_interval`, store it, queue expiry alerts (the alerts
job sends them). A village that fails here is logged and tried again on the next run;
polling is never held up."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aggregator.alerts.outbox import queue_alerts
from aggregator.fetch.client import Fetcher
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.yardsticks import RdapClient, collect_yardsticks

log = logging.getLogger(__name__)

BATCH = 200  # villages per run; the job runs hourly, so a kabupaten is covered in hours


async def run_yardsticks(
    store: Store, fetcher: Fetcher, settings: Settings, now: datetime | None = None
) -> int:
    now = now or datetime.now(UTC)
    due = await asyncio.to_thread(store.yardsticks_due, now, settings.yardstick_interval, BATCH)
    rdap = RdapClient(fetcher, settings.rdap_url) if settings.rdap_url else None
    done = 0
    for v in due:
        open_findings = len(
            await asyncio.to_thread(store.findings, status="open", village=v["code"])
        )
        try:
            async with asyncio.timeout(settings.request_timeout * 10):
                report = await collect_yardsticks(
                    fetcher,
                    v["url"],
                    platform=v["platform"],
                    version=v["version"],
                    open_findings=open_findings,
                    now=now,
                    rdap=rdap,
                )
        except Exception:
            log.exception("village=%s url=%s: yardsticks not collected", v["code"], v["url"])
            continue
        events = await asyncio.to_thread(store.record_yardsticks, v["code"], report, now)
        await asyncio.to_thread(queue_alerts, store.engine, settings.alerts, events, now)
        done += 1
    return done
