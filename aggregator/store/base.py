"""The store's base: the engine, the one write lock, the schema, and the settings (the
districts file's, with the dashboard's threshold overrides on top).

Every part of the store (one module per entity in this package) derives from `StoreBase`
and reaches the database through `self.engine`, writing under `self._write_lock`. A query
that is about the store as a whole (schema, settings) goes here; anything else goes to the
module of the entity it reads or writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, delete, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine, select

from aggregator.access.auth import private_file
from aggregator.decide.thresholds import BY_KEY, apply_overrides, current_value
from aggregator.models import SettingOverride
from aggregator.settings import Settings
from aggregator.store.search import register as register_search

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///data/sipande.db"
_MIGRATIONS = Path(__file__).parent.parent / "migrations"
# How long a process trusts the overrides it read: a change made by the dashboard process
# reaches a separate `sipande poll` process within this time.
OVERRIDES_TTL = 60.0


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, NORMAL sync, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            register_search(dbapi_conn)

        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    # Sessions in UTC: psycopg then returns datetimes in datetime.UTC rather than in a
    # ZoneInfo of the server's zone, which UTCDateTime would convert one by one (~1 µs each,
    # 7,500 for the overview's attention page). Stored values are timestamptz either way.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"options": "-c timezone=UTC"},
    )


class StoreBase:
    """The engine, the write lock and the settings every part of the store shares."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, settings: Settings | None = None):
        self.url = url
        self.engine = make_engine(url)
        # One writer at a time (SQLite allows one; on PostgreSQL it keeps a process's writes
        # ordered). Reads never take it.
        self._write_lock = threading.Lock()
        self._base_settings = self._effective_settings = settings or Settings()
        self._overrides_read_at = float("-inf")

    def close(self) -> None:
        self.engine.dispose()

    def _insert(self, model: Any) -> Any:
        """An INSERT into `model`'s table in the store's dialect, which takes ON CONFLICT
        (`on_conflict_do_nothing`, `on_conflict_do_update`) on SQLite and PostgreSQL."""
        return (pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(model)

    # -- schema -----------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            self._serialise(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _serialise(self, conn: Connection) -> None:
        """On PostgreSQL, several workers may start at once: one migrates or syncs at a time
        (a transaction-scoped advisory lock; SQLite already has a single writer)."""
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(727170)"))

    # -- settings with dashboard overrides --------------------------------------------

    @property
    def settings(self) -> Settings:
        """The districts file's settings with the dashboard's threshold overrides on top.
        Everything that reads `store.settings` (statuses, scores) sees the overrides, and a
        reloaded file (`store.settings = ...`) keeps them."""
        if time.monotonic() - self._overrides_read_at >= OVERRIDES_TTL:
            self._reload_overrides()
        return self._effective_settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._base_settings = value
        self._effective_settings = value
        self._overrides_read_at = float("-inf")

    @property
    def file_settings(self) -> Settings:
        """The settings as the districts file gives them, without overrides."""
        return self._base_settings

    def _reload_overrides(self) -> None:
        self._overrides_read_at = time.monotonic()
        try:
            overrides = self.threshold_overrides()
        except SQLAlchemyError as e:
            # Not migrated yet, or the store is down: keep what we had, try again later.
            log.debug("threshold overrides not readable: %s", e)
            return
        self._effective_settings = apply_overrides(self._base_settings, overrides)

    def threshold_overrides(self) -> dict[str, float]:
        with Session(self.engine) as s:
            return {o.key: o.value for o in s.exec(select(SettingOverride)).all()}

    def save_thresholds(self, values: Mapping[str, float], user: str, now: datetime) -> None:
        """Store `values` as overrides; a value equal to the file's drops its override, so
        later edits of the file apply to it again."""
        with self._write_lock, Session(self.engine) as s:
            for key, value in values.items():
                if key not in BY_KEY:
                    raise ValueError(f"unknown threshold {key!r}")
                row = s.get(SettingOverride, key)
                if value == current_value(self._base_settings, key):
                    if row is not None:
                        s.delete(row)
                    continue
                row = row or SettingOverride(key=key, value=value)
                row.value, row.updated_by, row.updated_at = value, user, now
                s.add(row)
            s.commit()
        self._overrides_read_at = float("-inf")

    def reset_thresholds(self) -> None:
        with self._write_lock, Session(self.engine) as s:
            s.connection().execute(delete(SettingOverride))
            s.commit()
        self._overrides_read_at = float("-inf")
