"""`sipande alert test`: a test message to every configured alert target, each result
printed and recorded (the admin page lists it with the other sends).

Exit codes: 0 every target answered, 1 a target failed or none is configured, 2 bad config.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from aggregator.alerts.events import AlertEvent
from aggregator.alerts.outbox import all_targets, record_send
from aggregator.alerts.send import send_one, target_label
from aggregator.settings import DistrictConfig


async def _send_all(config: DistrictConfig, database: str) -> int:
    from aggregator.fetch.client import Fetcher
    from aggregator.store import Store

    settings = config.settings
    targets = all_targets(settings.alerts)
    if not targets:
        print("Belum ada target peringatan: isi settings.alerts.targets (lihat docs/deploy.md).")
        return 1
    store = Store(database, settings)
    await asyncio.to_thread(store.migrate)
    now = datetime.now(UTC)
    event = AlertEvent("test", "", "Uji coba peringatan", "test", "info", "", "", now.isoformat())
    failed = 0
    try:
        async with Fetcher(settings) as fetcher:
            for url in targets:
                error = await send_one(url, event, settings.alerts, fetcher)
                await asyncio.to_thread(
                    record_send, store.engine, settings.alerts, url, event, error, now
                )
                label = target_label(url)
                print(f"terkirim  {label}" if error is None else f"GAGAL     {label}: {error}")
                failed += error is not None
    finally:
        store.close()
    print(f"{len(targets) - failed} dari {len(targets)} target menerima pesan uji coba.")
    return 1 if failed else 0


def cmd_alert_test(args: argparse.Namespace) -> int:
    from aggregator.cli.common import database_url, load_or_report

    config = load_or_report(args.config)
    if config is None:
        return 2
    return asyncio.run(_send_all(config, database_url(args.database)))


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[..., None],
) -> None:
    """Add `alert test`; `common(p)` adds --config and --database."""
    p = sub.add_parser("alert", help="alert targets: send a test message to each")
    alert = p.add_subparsers(dest="alert_command", required=True)
    p = alert.add_parser("test", help="send a test message to every configured alert target")
    common(p)
    p.set_defaults(func=cmd_alert_test)
