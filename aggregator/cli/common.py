"""What every command shares: where the config and the database are, reading the config
with its problems reported, opening the store."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime

from aggregator.errors import ConfigError
from aggregator.settings import DistrictConfig, load_config
from aggregator.store import DEFAULT_DATABASE_URL, Store

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config/districts.yaml"


def database_url(arg: str | None, default: str = DEFAULT_DATABASE_URL) -> str:
    return arg or os.environ.get("SIPANDE_DATABASE_URL") or default


def err(message: str) -> None:
    print(message, file=sys.stderr)


def report_problems(e: ConfigError) -> None:
    err(f"Konfigurasi tidak valid / invalid config ({len(e.problems)} problem(s)):")
    for problem in e.problems:
        err(f"  {problem}")


def load_or_report(path: str) -> DistrictConfig | None:
    """The districts file, or None after printing its problems (the caller exits 2)."""
    try:
        return load_config(path)
    except ConfigError as e:
        report_problems(e)
        return None


def open_store(config: DistrictConfig, url: str) -> Store:
    store = Store(url, config.settings)
    store.migrate()
    counts = store.sync_config(config, datetime.now(UTC))
    log.info("config %s synced: %s", config.path, counts)
    return store
