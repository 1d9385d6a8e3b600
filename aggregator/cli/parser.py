"""The one `sipande` parser: every command, its flags, and the function that runs it."""

from __future__ import annotations

import argparse

from aggregator import __version__
from aggregator.alerts.cli import register as register_alerts
from aggregator.cli.common import DEFAULT_CONFIG
from aggregator.cli.operators import (
    cmd_backup,
    cmd_discover,
    cmd_import_opendk,
    cmd_import_sites,
    cmd_migrate,
)
from aggregator.cli.service import (
    cmd_check_config,
    cmd_demo,
    cmd_poll,
    cmd_serve,
    cmd_worker,
)
from aggregator.cli.users import cmd_user_add, cmd_user_list, cmd_user_remove
from aggregator.geo.cli import register as register_geo

DESCRIPTION = """`sipande` command line: demo, serve, poll, check-config.

Exit codes: 0 success (a pass where villages failed is still a success), 2 bad config.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sipande", description=DESCRIPTION)
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

    def config_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=DEFAULT_CONFIG, help="districts file (%(default)s)")

    p = sub.add_parser(
        "import-sites", help="set village urls in the config from a .csv or .xlsx list"
    )
    p.add_argument("file", help="columns: code (kode) or name (nama) [+ kecamatan], and url")
    config_option(p)
    p.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    p.set_defaults(func=cmd_import_sites)

    p = sub.add_parser("import-opendk", help="set village urls from a kecamatan's OpenDK site")
    p.add_argument("url", help="the OpenDK site (or its /api/frontend/v1/desa listing)")
    config_option(p)
    p.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per request")
    p.set_defaults(func=cmd_import_opendk)

    p = sub.add_parser("discover", help="propose site addresses for villages without one")
    config_option(p)
    p.add_argument("--out", default="review.csv", help="review file to write (%(default)s)")
    p.add_argument("--kecamatan", metavar="CODE", help="only this kecamatan's villages")
    p.add_argument("--timeout", type=float, help="seconds per candidate (default: <= 10)")
    p.add_argument("--concurrency", type=int, default=16, help="requests at once (16)")
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("backup", help="consistent copy of the SQLite store, even while polling")
    common(p, config=False)
    p.add_argument("out", help="file to write, e.g. backups/sipande-2025-01-31.db")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("migrate", help="bring the database schema to this version")
    common(p, config=False)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("user", help="dashboard accounts: add, list, remove")
    users = p.add_subparsers(dest="user_command", required=True)
    p = users.add_parser("add", help="create a dashboard user")
    p.add_argument("username")
    p.add_argument(
        "--role",
        required=True,
        choices=("dinkominfo", "kecamatan"),
        help="dinkominfo: the whole kabupaten; kecamatan: one kecamatan only",
    )
    p.add_argument("--kecamatan", metavar="CODE", help="the operator's kecamatan, e.g. 33.03.01")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else it is asked for)",
    )
    common(p, config=False)
    p.set_defaults(func=cmd_user_add)
    p = users.add_parser("list", help="list dashboard users")
    common(p, config=False)
    p.set_defaults(func=cmd_user_list)
    p = users.add_parser("remove", help="delete a dashboard user (their sessions end)")
    p.add_argument("username")
    common(p, config=False)
    p.set_defaults(func=cmd_user_remove)

    p = sub.add_parser("check-config", help="validate a districts file")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_check_config)

    register_geo(sub, common)  # import-boundaries
    register_alerts(sub, common)  # alert test
    return parser
