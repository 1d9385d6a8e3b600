"""Dashboard accounts: user add, list, remove.

Exit codes: 0 done, 2 bad input (a weak password, an unknown kecamatan or user).
"""

from __future__ import annotations

import argparse
import sys

from aggregator.cli.common import database_url, err
from aggregator.store import Store


def _read_password(args: argparse.Namespace) -> str | None:
    """From stdin with --password-stdin (its first line), else asked twice on the terminal."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        err("No terminal to ask for the password on: pipe it in with --password-stdin.")
        return None
    first = getpass.getpass("Kata sandi / password: ")
    if getpass.getpass("Ulangi / repeat: ") != first:
        err("The two passwords differ; nothing was changed.")
        return None
    return first


def _user_store(args: argparse.Namespace) -> Store:
    store = Store(database_url(args.database))
    store.migrate()
    return store


def cmd_user_add(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from aggregator.access.auth import AuthError, check_account, check_password, hash_password

    try:
        username = check_account(args.username, args.role, args.kecamatan)
    except AuthError as e:
        err(str(e))
        return 2
    password = _read_password(args)
    if password is None:
        return 2
    try:
        check_password(password)
    except AuthError as e:
        err(str(e))
        return 2
    store = _user_store(args)
    try:
        known = store.kecamatan_codes()
        if args.kecamatan and known and args.kecamatan not in known:
            err(f"No kecamatan {args.kecamatan} in the store (known: {', '.join(sorted(known))})")
            return 2
        if args.kecamatan and not known:
            err(f"warning: the store lists no kecamatan yet; {args.kecamatan} is not checked")
        store.add_user(
            username, hash_password(password), args.role, args.kecamatan, datetime.now(UTC)
        )
    except AuthError as e:
        err(str(e))
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
    from aggregator.access.auth import normalise_username

    store = _user_store(args)
    try:
        removed = store.remove_user(normalise_username(args.username))
    finally:
        store.close()
    if not removed:
        err(f"No user {args.username!r}.")
        return 2
    print(f"User {args.username} removed; their sessions end with their next request.")
    return 0
