"""The `sipande` command: one parser (`parser.py`) over the command modules.

- `service`: demo, serve, poll, worker, check-config
- `operators`: import-sites, import-opendk, discover, backup, migrate
- `users`: user add, list, remove
- `common`: the config and database options and the store every command opens
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aggregator.cli.common import database_url, open_store
from aggregator.cli.parser import build_parser
from aggregator.cli.service import finish_pass, poll_once
from aggregator.memory import limit_malloc_arenas

__all__ = ["build_parser", "database_url", "finish_pass", "main", "open_store", "poll_once"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    limit_malloc_arenas()  # before any thread starts (see aggregator/memory.py)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    result: int = args.func(args)
    return result
