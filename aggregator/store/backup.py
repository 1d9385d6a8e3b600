"""Online backup of the SQLite store while the poller keeps writing (sqlite3 backup API);
PostgreSQL is backed up with pg_dump, whose command line is given instead.
"""

from __future__ import annotations

import logging
import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from aggregator.errors import AggregatorError

log = logging.getLogger(__name__)

COUNTED_TABLES = ("village", "check", "newsitem", "finding")


class BackupError(AggregatorError):
    """The backup could not be made (no such database, unwritable target, bad copy)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    integrity: str
    rows: dict[str, int]


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite url; None for any other database."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError(f"{url}: an in-memory database has nothing to back up")
    return Path(parsed.database)


def pg_dump_command(url: str, out: str) -> str:
    """The pg_dump line for a PostgreSQL url; the password stays out of the printed line."""
    parsed = make_url(url)
    args = ["pg_dump", "--format=custom", "--no-owner", f"--file={out}"]
    if parsed.host:
        args.append(f"--host={parsed.host}")
    if parsed.port:
        args.append(f"--port={parsed.port}")
    if parsed.username:
        args.append(f"--username={parsed.username}")
    args.append(parsed.database or "sipande")
    line = shlex.join(args)
    return f"PGPASSWORD=... {line}" if parsed.password else line


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        (n,) = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    except sqlite3.Error:
        return -1  # an older schema without that table
    return int(n)


def backup_sqlite(source: Path, out: Path) -> BackupResult:
    """Copy `source` to `out` as one consistent snapshot, check it, and only then move it
    into place; `out` is a single self-contained file (rollback journal, not WAL)."""
    if not source.exists():
        raise BackupError(f"{source}: no such database")
    if out.resolve() == source.resolve():
        raise BackupError(f"{out}: the backup cannot overwrite the database itself")
    out.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600, and the rename keeps it: the copy holds password hashes.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # Not mode=ro: a read-only connection cannot open a WAL database whose -shm is missing.
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            # All pages in one step: the copy is read inside one read transaction, a snapshot
            # that WAL lets writers go on past. Copying in chunks would restart whenever the
            # poller commits between two chunks, and might never finish on a busy store.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            (integrity,) = dst.execute("PRAGMA integrity_check").fetchone()
            rows = {t: _count(dst, t) for t in COUNTED_TABLES}
        finally:
            dst.close()
            src.close()
        if integrity != "ok":
            raise BackupError(f"{out}: the copy failed its integrity check: {integrity}")
        os.replace(tmp, out)
    except sqlite3.Error as e:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"backup of {source} failed: {e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    size = out.stat().st_size
    log.info("backup %s -> %s: %d bytes, %s", source, out, size, rows)
    return BackupResult(out, size, str(integrity), rows)
