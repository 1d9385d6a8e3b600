"""Subcommands for operators, registered on the `sipande` parser by `aggregator.cli`:
import-sites, import-opendk, discover, backup, migrate, user (add, list, remove).

Exit codes: 0 done (rows that did not match are reported, not failures), 1 the work could
not be done (network, disk), 2 bad input (config, site list, a PostgreSQL url for backup).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.errors import ConfigError
from aggregator.settings import DistrictConfig, VillageConfig, load_config, parse_config

if TYPE_CHECKING:
    from aggregator.ops.discover import Proposal
    from aggregator.ops.resolve import Resolver
    from aggregator.store import Store

DEFAULT_CONFIG = "config/districts.yaml"
REVIEW_COLUMNS = ("code", "name", "kecamatan", "candidate", "evidence", "confidence")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _load(path: str) -> DistrictConfig | None:
    try:
        return load_config(path)
    except ConfigError as e:
        _problems(e)
        return None


def _load_text(path: str) -> tuple[str, DistrictConfig] | None:
    """The file's text and its parse: an import is planned and written against one read."""
    from aggregator.ops.yaml_edit import read_text

    try:
        text = read_text(Path(path))
    except (OSError, UnicodeDecodeError) as e:
        _err(f"{path}: cannot read: {e}")
        return None
    try:
        return text, parse_config(text, path)
    except ConfigError as e:
        _problems(e)
        return None


def _problems(e: ConfigError) -> None:
    _err(f"Konfigurasi tidak valid / invalid config ({len(e.problems)} problem(s)):")
    for problem in e.problems:
        _err(f"  {problem}")


def _apply(
    plan_lines: list[str],
    urls: dict[str, str],
    loaded: tuple[str, DistrictConfig],
    dry_run: bool,
) -> int:
    from aggregator.ops.yaml_edit import update_config_file

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
        _err(f"Not written: the result would not be a valid {config_path}:")
        for problem in e.problems:
            _err(f"  {problem}")
        return 2
    except OSError as e:
        _err(f"Not written: {config_path}: {e.strerror or e}")
        return 1
    print(f"Wrote {config_path}: {len(urls)} village urls set (comments and order kept).")
    return 0


def cmd_import_sites(args: argparse.Namespace) -> int:
    from aggregator.ops.importer import format_plan, plan_import
    from aggregator.ops.tables import TableError, read_site_list

    loaded = _load_text(args.config)
    if loaded is None:
        return 2
    try:
        rows = read_site_list(args.file)
    except TableError as e:
        _err(str(e))
        return 2
    plan = plan_import(loaded[1], rows, f"Import from {args.file}")
    return _apply(format_plan(plan), plan.urls, loaded, args.dry_run)


def cmd_import_opendk(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from aggregator.fetch import Fetcher
    from aggregator.ops.importer import format_plan, plan_import
    from aggregator.ops.opendk import OpenDKError, fetch_villages, listing_url
    from aggregator.ops.tables import SiteRow

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
        _err(f"OpenDK: {e}")
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
    from aggregator.ops.discover import discover, without_url
    from aggregator.ops.progress import Progress
    from aggregator.ops.resolve import SystemResolver
    from aggregator.ops.yaml_edit import write_atomically

    config = _load(args.config)
    if config is None:
        return 2
    if args.kecamatan and args.kecamatan not in {k.code for k in config.kecamatan}:
        _err(f"{args.config}: no kecamatan {args.kecamatan}")
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
        _err(f"{out}: {e.strerror or e}")
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
    from aggregator.cli import database_url
    from aggregator.ops.backup import BackupError, backup_sqlite, pg_dump_command, sqlite_path

    url = database_url(args.database)
    try:
        source = sqlite_path(url)
        if source is None:
            _err("sipande backup copies SQLite stores only; back up PostgreSQL with pg_dump:")
            print(pg_dump_command(url, args.out))
            return 2
        result = backup_sqlite(source, Path(args.out))
    except BackupError as e:
        _err(str(e))
        return 1
    except OSError as e:
        _err(f"{args.out}: {e.strerror or e}")
        return 1
    rows = ", ".join(f"{table} {n}" for table, n in result.rows.items() if n >= 0)
    print(
        f"Backup of {source} written to {result.path}: {result.bytes} bytes, "
        f"integrity {result.integrity}; rows: {rows}"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.runtime.migration import MigrationContext

    from aggregator.cli import database_url
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


def _read_password(args: argparse.Namespace) -> str | None:
    """From stdin with --password-stdin (its first line), else asked twice on the terminal."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        _err("No terminal to ask for the password on: pipe it in with --password-stdin.")
        return None
    first = getpass.getpass("Kata sandi / password: ")
    if getpass.getpass("Ulangi / repeat: ") != first:
        _err("The two passwords differ; nothing was changed.")
        return None
    return first


def _user_store(args: argparse.Namespace) -> Store:
    from aggregator.cli import database_url
    from aggregator.store import Store

    store = Store(database_url(args.database))
    store.migrate()
    return store


def cmd_user_add(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from aggregator.auth import AuthError, check_account, check_password, hash_password

    try:
        username = check_account(args.username, args.role, args.kecamatan)
    except AuthError as e:
        _err(str(e))
        return 2
    password = _read_password(args)
    if password is None:
        return 2
    try:
        check_password(password)
    except AuthError as e:
        _err(str(e))
        return 2
    store = _user_store(args)
    try:
        known = store.kecamatan_codes()
        if args.kecamatan and known and args.kecamatan not in known:
            _err(f"No kecamatan {args.kecamatan} in the store (known: {', '.join(sorted(known))})")
            return 2
        if args.kecamatan and not known:
            _err(f"warning: the store lists no kecamatan yet; {args.kecamatan} is not checked")
        store.add_user(
            username, hash_password(password), args.role, args.kecamatan, datetime.now(UTC)
        )
    except AuthError as e:
        _err(str(e))
        return 2
    finally:
        store.close()
    scope = f"kecamatan {args.kecamatan}" if args.kecamatan else "the whole kabupaten"
    print(f"User {username} added: role {args.role}, {scope}.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    store = _user_store(args)
    try:
        users = store.list_users()
    finally:
        store.close()
    if not users:
        print("No users yet: sipande user add USERNAME --role dinkominfo")
        return 0
    print(f"{'username':<24} {'role':<11} {'kecamatan':<10} created")
    for u in users:
        created = (u["created_at"] or "")[:16]
        print(f"{u['username']:<24} {u['role']:<11} {u['kecamatan_code'] or '-':<10} {created}")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from aggregator.auth import normalise_username

    store = _user_store(args)
    try:
        removed = store.remove_user(normalise_username(args.username))
    finally:
        store.close()
    if not removed:
        _err(f"No user {args.username!r}.")
        return 2
    print(f"User {args.username} removed; their sessions end with their next request.")
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[..., None],
) -> None:
    """Add the operator subcommands; `common(p)` adds --config and --database to a parser."""

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
