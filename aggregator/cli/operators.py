"""Operator commands: import-sites, import-opendk, discover, backup, migrate.

Exit codes: 0 done (rows that did not match are reported, not failures), 1 the work could
not be done (network, disk), 2 bad input (config, site list, a PostgreSQL url for backup).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.cli.common import database_url, err, load_or_report, report_problems
from aggregator.errors import ConfigError
from aggregator.settings import DistrictConfig, VillageConfig, parse_config

if TYPE_CHECKING:
    from aggregator.onboarding.discover import Proposal
    from aggregator.onboarding.resolve import Resolver

REVIEW_COLUMNS = ("code", "name", "kecamatan", "candidate", "evidence", "confidence")


def _load_text(path: str) -> tuple[str, DistrictConfig] | None:
    """The file's text and its parse: an import is planned and written against one read."""
    from aggregator.onboarding.yaml_edit import read_text

    try:
        text = read_text(Path(path))
    except (OSError, UnicodeDecodeError) as e:
        err(f"{path}: cannot read: {e}")
        return None
    try:
        return text, parse_config(text, path)
    except ConfigError as e:
        report_problems(e)
        return None


def _apply(
    plan_lines: list[str],
    urls: dict[str, str],
    loaded: tuple[str, DistrictConfig],
    dry_run: bool,
) -> int:
    from aggregator.onboarding.yaml_edit import update_config_file

    text, config = loaded
    config_path = config.path
    for line in plan_lines:
        print(line)
    if dry_run:
        print(f"Dry run: {config_path} not changed ({len(urls)} villages would get a new url).")
        return 0
    if not urls:
        print(f"Nothing to change in {config_path}.")
        return 0
    try:
        update_config_file(config_path, urls, original=text, before=config)
    except ConfigError as e:
        err(f"Not written: the result would not be a valid {config_path}:")
        for problem in e.problems:
            err(f"  {problem}")
        return 2
    except OSError as e:
        err(f"Not written: {config_path}: {e.strerror or e}")
        return 1
    print(f"Wrote {config_path}: {len(urls)} village urls set (comments and order kept).")
    return 0


def cmd_import_sites(args: argparse.Namespace) -> int:
    from aggregator.onboarding.importer import format_plan, plan_import
    from aggregator.onboarding.tables import TableError, read_site_list

    loaded = _load_text(args.config)
    if loaded is None:
        return 2
    try:
        rows = read_site_list(args.file)
    except TableError as e:
        err(str(e))
        return 2
    plan = plan_import(loaded[1], rows, f"Import from {args.file}")
    return _apply(format_plan(plan), plan.urls, loaded, args.dry_run)


def cmd_import_opendk(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from aggregator.fetch.client import Fetcher
    from aggregator.onboarding.importer import format_plan, plan_import
    from aggregator.onboarding.opendk import OpenDKError, fetch_villages, listing_url
    from aggregator.onboarding.tables import SiteRow

    loaded = _load_text(args.config)
    if loaded is None:
        return 2
    settings = replace(loaded[1].settings, request_timeout=args.timeout)

    async def fetch(source: str) -> list[SiteRow]:
        async with Fetcher(settings) as fetcher:
            return await fetch_villages(source, fetcher)

    try:
        source = listing_url(args.url)
        rows = asyncio.run(fetch(source))
    except OpenDKError as e:
        err(f"OpenDK: {e}")
        return 1
    plan = plan_import(loaded[1], rows, f"Import from OpenDK {source}")
    return _apply(format_plan(plan), plan.urls, loaded, args.dry_run)


def review_csv(proposals: Sequence[Proposal]) -> str:
    """The review file: one row per candidate; `import-sites` reads it back (by code)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVIEW_COLUMNS)
    for p in proposals:
        writer.writerow([getattr(p, column) for column in REVIEW_COLUMNS])
    return out.getvalue()


def cmd_discover(args: argparse.Namespace, *, resolver: Resolver | None = None) -> int:
    """`resolver` replaces DNS (tests point candidate names at loopback servers)."""
    from aggregator.cli.progress import Progress
    from aggregator.onboarding.discover import discover, without_url
    from aggregator.onboarding.resolve import SystemResolver
    from aggregator.onboarding.yaml_edit import write_atomically

    config = load_or_report(args.config)
    if config is None:
        return 2
    if args.kecamatan and args.kecamatan not in {k.code for k in config.kecamatan}:
        err(f"{args.config}: no kecamatan {args.kecamatan}")
        return 2
    targets = without_url(config, args.kecamatan)
    settings = config.settings
    chosen = resolver or SystemResolver(
        allow_private=settings.allow_private_addresses, timeout=settings.connect_timeout
    )
    timeout = args.timeout or min(settings.request_timeout, 10.0)
    with Progress("discover", len(targets)) as progress:

        def done(village: VillageConfig, found: int) -> None:
            progress.advance(note=village.name)

        proposals = asyncio.run(
            discover(
                config,
                chosen,
                kecamatan=args.kecamatan,
                timeout=timeout,
                concurrency=args.concurrency,
                on_village=done,
            )
        )
    out = Path(args.out)
    try:
        write_atomically(out, review_csv(proposals))
    except OSError as e:
        err(f"{out}: {e.strerror or e}")
        return 1
    villages = len({p.code for p in proposals})
    print(
        f"Probed {len(targets)} villages without a url: {len(proposals)} candidates for "
        f"{villages} villages written to {out} (the config is not changed)."
    )
    if proposals:
        print(f"Review it, delete wrong rows, then: sipande import-sites {out} --dry-run")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from aggregator.store.backup import BackupError, backup_sqlite, pg_dump_command, sqlite_path

    url = database_url(args.database)
    try:
        source = sqlite_path(url)
        if source is None:
            err("sipande backup copies SQLite stores only; back up PostgreSQL with pg_dump:")
            print(pg_dump_command(url, args.out))
            return 2
        result = backup_sqlite(source, Path(args.out))
    except BackupError as e:
        err(str(e))
        return 1
    except OSError as e:
        err(f"{args.out}: {e.strerror or e}")
        return 1
    rows = ", ".join(f"{table} {n}" for table, n in result.rows.items() if n >= 0)
    print(
        f"Backup of {source} written to {result.path}: {result.bytes} bytes, "
        f"integrity {result.integrity}; rows: {rows}"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.runtime.migration import MigrationContext

    from aggregator.store import Store

    store = Store(database_url(args.database))
    try:

        def revision() -> str | None:
            with store.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()

        before = revision()
        store.migrate()
        after = revision()
    finally:
        store.close()
    if before == after:
        print(f"Schema already at revision {after}.")
    else:
        print(f"Schema migrated from {before or '(empty)'} to {after}.")
    return 0
