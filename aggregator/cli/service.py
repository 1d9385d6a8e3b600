"""The service commands: demo, serve, poll, worker, check-config.

Exit codes: 0 success (a pass where villages failed is still a success), 2 bad config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import secrets
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aggregator import __version__
from aggregator.cli.common import database_url, load_or_report, open_store
from aggregator.settings import DistrictConfig
from aggregator.store import Store


async def poll_once(
    config: DistrictConfig,
    store: Store,
    *,
    villages: Sequence[str] = (),
    kecamatan: str | None = None,
) -> int:
    from aggregator.fetch.client import Fetcher
    from aggregator.poll.poller import Poller

    targets = store.due_villages(
        datetime.now(UTC), codes=villages or None, kecamatan=kecamatan, all_villages=True
    )
    from aggregator.cli.progress import PassProgress

    async with Fetcher(config.settings) as fetcher:
        with PassProgress(len(targets)) as progress:  # a bar on a terminal
            poller = Poller(store, fetcher, config.settings)
            report = await poller.run_pass(targets, on_done=progress.polled)
    print(
        f"Polled {report.villages} villages in {report.seconds:.1f}s: "
        f"{report.ok} ok, {report.failed} failed, {report.new_items} new items"
    )
    return report.failed


def finish_pass(store: Store) -> None:
    """Roll up the checks and derive statuses and scores now, as the background jobs do,
    so a one-off pass leaves a store a dashboard without a scheduler shows whole."""
    now = datetime.now(UTC)
    store.rollup_checks(now)
    store.score_all(now)


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 2
    villages = config.villages
    with_url = sum(1 for v in villages if v.url)
    print(
        f"OK {args.config}: kabupaten {config.kabupaten_code} {config.kabupaten_name}, "
        f"{len(config.kecamatan)} kecamatan, {len(villages)} villages ({with_url} with a url)"
    )
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 2
    store = open_store(config, database_url(args.database))
    try:
        if args.once:
            asyncio.run(poll_once(config, store, villages=args.village, kecamatan=args.kecamatan))
            finish_pass(store)
        else:
            asyncio.run(_poll_forever(config, store))
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


async def _poll_forever(config: DistrictConfig, store: Store) -> None:
    from aggregator.fetch.client import Fetcher
    from aggregator.poll.poller import Poller
    from aggregator.service.scheduler import build_scheduler

    async with Fetcher(config.settings) as fetcher:
        poller = Poller(store, fetcher, config.settings)
        scheduler = build_scheduler(poller, store, config_path=config.path)
        scheduler.start()
        try:
            await asyncio.Event().wait()
        finally:
            scheduler.shutdown(wait=False)


def cmd_worker(args: argparse.Namespace) -> int:
    from aggregator.service.worker import run_worker

    config = load_or_report(args.config)
    if config is None:
        return 2
    url = database_url(args.database)
    if not url.startswith("postgresql"):
        print("sipande worker needs PostgreSQL: --database postgresql://…", file=sys.stderr)
        return 2
    store = open_store(config, url)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run_worker(
                store,
                config.settings,
                url,
                concurrency=args.concurrency,
                config_path=str(config.path) if config.path else None,
            )
        )
    store.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from aggregator.web import create_app
    from aggregator.web.edge import server_options

    config = load_or_report(args.config)
    if config is None:
        return 2
    store = open_store(config, database_url(args.database))
    app = create_app(
        config.settings,
        store=store,
        run_scheduler=not args.no_scheduler,
        config_path=args.config,
    )
    print(f"Sipande {__version__}: http://{args.host}:{args.port}/")
    options = server_options(config.settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", **options)
    store.close()
    return 0


async def _demo(args: argparse.Namespace) -> None:
    import uvicorn

    from aggregator.access.auth import hash_password
    from aggregator.settings import parse_config
    from aggregator.web import create_app
    from aggregator.web.edge import server_options
    from fleet import Fleet

    workdir = Path(args.dir)
    if workdir.exists():
        shutil.rmtree(workdir)  # a demo starts from an empty store every time
    workdir.mkdir(parents=True)
    async with Fleet.from_district(args.villages, seed=args.seed) as fleet:
        settings: dict[str, object] = {
            "poll_interval": "5m",
            "request_timeout": "6s",
            "min_interval": "2m",
            "integrity_interval": "5m",
            # The demo shows a district's whole first morning at once: nothing waits for its
            # slot (a real onboarding spreads service pages and scans over the first 6 h).
            "first_read_spread": 0,
            "connect_timeout": "2s",
            "dispatch_interval": "15s",
        }
        config_path = workdir / "districts.yaml"
        config_path.write_text(fleet.config_yaml(settings=settings), encoding="utf-8")
        config = parse_config(config_path.read_text(encoding="utf-8"), str(config_path))
        store = open_store(config, database_url(args.database, f"sqlite:///{workdir}/sipande.db"))
        print(f"Simulated fleet: {len(fleet.villages)} village sites on 127.0.0.1 ({config_path})")
        # A demo officer, so the admin actions (acknowledge, re-poll, thresholds) can be tried.
        password = secrets.token_urlsafe(9)
        store.add_user("dinkominfo", hash_password(password), "dinkominfo", None, datetime.now(UTC))
        await poll_once(config, store)
        # Failing sites need repeated failed checks to count as unreachable; replay
        # two more real checks of the failing ones now rather than wait for the backoff.
        for _ in range(config.settings.unreachable_after - 1):
            failing = [v["code"] for v in store.list_villages() if v["last_check_ok"] is False]
            if failing:
                await poll_once(config, store, villages=failing)
        finish_pass(store)
        app = create_app(
            config.settings,
            store=store,
            run_scheduler=True,
            title="Sipande (demo)",
            config_path=str(config_path),
        )
        options = server_options(config.settings)
        server = uvicorn.Server(
            uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", **options)
        )
        print(f"Dashboard: http://{args.host}:{args.port}/   (Ctrl+C to stop)", flush=True)
        print(f"Masuk (login) as dinkominfo / {password} for the admin view", flush=True)
        await server.serve()
        store.close()


def cmd_demo(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("fleet") is None:  # a separate package: scripts/install adds it
        print(
            "sipande demo needs the simulated fleet: pip install -e ./fleet (or ./scripts/demo)",
            file=sys.stderr,
        )
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(args))
    return 0
