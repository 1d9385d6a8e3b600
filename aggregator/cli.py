"""`sipande` command line: demo, serve, poll, check-config.

Exit codes: 0 success (a pass where villages failed is still a success), 2 bad config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aggregator import __version__
from aggregator.errors import ConfigError
from aggregator.settings import DistrictConfig, load_config
from aggregator.store import DEFAULT_DATABASE_URL, Store

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config/districts.yaml"


def database_url(arg: str | None, default: str = DEFAULT_DATABASE_URL) -> str:
    return arg or os.environ.get("SIPANDE_DATABASE_URL") or default


def _load(path: str) -> DistrictConfig | None:
    try:
        return load_config(path)
    except ConfigError as e:
        print(
            f"Konfigurasi tidak valid / invalid config ({len(e.problems)} problem(s)):",
            file=sys.stderr,
        )
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def open_store(config: DistrictConfig, url: str) -> Store:
    store = Store(url, config.settings)
    store.migrate()
    counts = store.sync_config(config, datetime.now(UTC))
    log.info("config %s synced: %s", config.path, counts)
    return store


async def poll_once(
    config: DistrictConfig,
    store: Store,
    *,
    villages: Sequence[str] = (),
    kecamatan: str | None = None,
) -> int:
    from aggregator.fetch import Fetcher
    from aggregator.poller import Poller

    targets = store.due_villages(
        datetime.now(UTC), codes=villages or None, kecamatan=kecamatan, all_villages=True
    )
    from aggregator.ops.progress import PassProgress

    async with Fetcher(config.settings) as fetcher:
        with PassProgress(len(targets)) as progress:  # a bar on a terminal
            poller = Poller(store, fetcher, config.settings)
            report = await poller.run_pass(targets, on_done=progress.polled)
    print(
        f"Polled {report.villages} villages in {report.seconds:.1f}s: "
        f"{report.ok} ok, {report.failed} failed, {report.new_items} new items"
    )
    return report.failed


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
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
    config = _load(args.config)
    if config is None:
        return 2
    store = open_store(config, database_url(args.database))
    try:
        if args.once:
            asyncio.run(poll_once(config, store, villages=args.village, kecamatan=args.kecamatan))
        else:
            asyncio.run(_poll_forever(config, store))
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


async def _poll_forever(config: DistrictConfig, store: Store) -> None:
    from aggregator.fetch import Fetcher
    from aggregator.poller import Poller
    from aggregator.scheduler import build_scheduler

    async with Fetcher(config.settings) as fetcher:
        poller = Poller(store, fetcher, config.settings)
        scheduler = build_scheduler(poller, store, config_path=config.path)
        scheduler.start()
        try:
            await asyncio.Event().wait()
        finally:
            scheduler.shutdown(wait=False)


def cmd_worker(args: argparse.Namespace) -> int:
    from aggregator.worker import run_worker

    config = _load(args.config)
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

    config = _load(args.config)
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

    from aggregator.auth import hash_password
    from aggregator.fleet import Fleet
    from aggregator.settings import parse_config
    from aggregator.web import create_app
    from aggregator.web.edge import server_options

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
        # Failing sites need repeated failed checks to count as unreachable (DESIGN §6); replay
        # two more real checks of the failing ones now rather than wait for the backoff.
        for _ in range(config.settings.unreachable_after - 1):
            failing = [v["code"] for v in store.list_villages() if v["last_check_ok"] is False]
            if failing:
                await poll_once(config, store, villages=failing)
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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(args))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sipande", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sipande {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, config: bool = True) -> None:
        if config:
            p.add_argument("--config", default=DEFAULT_CONFIG, help="districts file (%(default)s)")
        p.add_argument(
            "--database",
            help="SQLAlchemy URL (default: $SIPANDE_DATABASE_URL or sqlite:///data/sipande.db)",
        )

    p = sub.add_parser("demo", help="simulated village fleet on loopback, polled and served")
    common(p, config=False)
    p.add_argument("--villages", type=int, default=36, help="fleet size (%(default)s)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--dir", default="data/demo", help="working directory, emptied first")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="web dashboard and API (and the scheduler)")
    common(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-scheduler", action="store_true", help="serve only, do not poll")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("poll", help="poll villages (forever, or one pass with --once)")
    common(p)
    p.add_argument("--once", action="store_true", help="one full pass, then exit")
    p.add_argument("--village", action="append", default=[], metavar="CODE")
    p.add_argument("--kecamatan", metavar="CODE")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("worker", help="distributed poll worker on PostgreSQL (procrastinate)")
    common(p)
    p.add_argument("--concurrency", type=int, default=32, help="polls at once (%(default)s)")
    p.set_defaults(func=cmd_worker)

    from aggregator.ops.cli import register

    register(sub, common)

    p = sub.add_parser("check-config", help="validate a districts file")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    result: int = args.func(args)
    return result
