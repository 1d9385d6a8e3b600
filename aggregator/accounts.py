"""Store mixin for access control (issue 7): dashboard users, the writes officers may ask for
(re-poll a village now), the admin view's findings, and threshold overrides."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from aggregator.auth import Account, AuthError
from aggregator.models import Check, Finding, Kecamatan, SettingOverride, User, Village
from aggregator.queries import iso
from aggregator.settings import Settings
from aggregator.thresholds import BY_KEY, apply_overrides, current_value

log = logging.getLogger(__name__)

# How long a process trusts the overrides it read: a change made by the dashboard process
# reaches a separate `sipande poll` process within this time.
OVERRIDES_TTL = 60.0
HOLD_STATUSES = (429, 503)  # the site asked us to wait (Retry-After): a re-poll waits too


def _account(u: User) -> Account:
    if u.id is None:
        raise ValueError("a user row without its id")  # only rows read back get here
    since = u.sessions_since.timestamp() if u.sessions_since else None
    return Account(u.id, u.username, u.role, u.kecamatan_code, u.password_hash, since)


class Accounts:
    engine: Engine
    _write_lock: threading.Lock
    _base_settings: Settings
    _effective_settings: Settings
    _overrides_read_at: float

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

    # -- users ------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        kecamatan_code: str | None,
        now: datetime,
    ) -> Account:
        row = User(
            username=username,
            password_hash=password_hash,
            role=role,
            kecamatan_code=kecamatan_code,
            created_at=now,
        )
        with self._write_lock, Session(self.engine) as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError as e:
                raise AuthError(f"user {username!r} already exists") from e
            s.refresh(row)
            return _account(row)

    def user_by_name(self, username: str) -> Account | None:
        with Session(self.engine) as s:
            row = s.exec(select(User).where(User.username == username)).first()
            return _account(row) if row else None

    def user_by_id(self, user_id: int) -> Account | None:
        with Session(self.engine) as s:
            row = s.get(User, user_id)
            return _account(row) if row else None

    def list_users(self) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            rows = s.exec(select(User).order_by(col(User.username))).all()
            return [
                {
                    "username": u.username,
                    "role": u.role,
                    "kecamatan_code": u.kecamatan_code,
                    "created_at": iso(u.created_at),
                }
                for u in rows
            ]

    def remove_user(self, username: str) -> bool:
        with self._write_lock, Session(self.engine) as s:
            row = s.exec(select(User).where(User.username == username)).first()
            if row is None:
                return False
            s.delete(row)
            s.commit()
            return True

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._write_lock, Session(self.engine) as s:
            s.connection().execute(
                update(User).where(col(User.id) == user_id).values(password_hash=password_hash)
            )
            s.commit()

    def end_sessions(self, user_id: int, now: datetime) -> None:
        """Every session of this user begun until `now` is over (logout)."""
        with self._write_lock, Session(self.engine) as s:
            s.connection().execute(
                update(User).where(col(User.id) == user_id).values(sessions_since=now)
            )
            s.commit()

    def kecamatan_codes(self) -> set[str]:
        with Session(self.engine) as s:
            return set(s.exec(select(Kecamatan.code)).all())

    # -- what officers may do ---------------------------------------------------------

    def village_kecamatan(self, code: str) -> str | None:
        with Session(self.engine) as s:
            kec: str | None = s.exec(
                select(Village.kecamatan_code).where(Village.code == code)
            ).first()
            return kec

    def request_poll(self, code: str, now: datetime) -> datetime | None:
        """Make a village due now (the dispatcher polls it at its next tick). Returns when
        it will be checked: now, or later if the site asked us to wait (429/503 with
        Retry-After), which an impatient click must not override. None: no such village,
        or one without a site or no longer configured."""
        with self._write_lock, Session(self.engine) as s:
            v = s.get(Village, code)
            if v is None or not v.url or not v.in_config:
                return None
            last = s.exec(
                select(Check.status_code)
                .where(Check.village_code == code)
                .order_by(col(Check.started_at).desc(), col(Check.id).desc())
                .limit(1)
            ).first()
            if v.next_check_at is not None and v.next_check_at <= now:
                return now  # already due
            if v.next_check_at is not None and last in HOLD_STATUSES:
                return v.next_check_at
            v.next_check_at = now
            s.add(v)
            s.commit()
            return now

    def finding_village(self, finding_id: int) -> tuple[str, str] | None:
        """The village code and kecamatan code of a finding, for the scope check."""
        with Session(self.engine) as s:
            row = s.exec(
                select(Finding.village_code, Village.kecamatan_code)
                .join(Village, col(Village.code) == col(Finding.village_code))
                .where(Finding.id == finding_id)
            ).first()
            return (row[0], row[1]) if row else None

    def open_findings_by_kind(self, village_code: str) -> dict[str, dict[str, Any]]:
        """A village's open findings by kind (one open finding per kind), with their ids
        and acknowledgement, for the village page's buttons."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Finding).where(
                    Finding.village_code == village_code, Finding.status == "open"
                )
            ).all()
            return {
                f.kind: {
                    "id": f.id,
                    "acknowledged_by": f.acknowledged_by,
                    "acknowledged_at": iso(f.acknowledged_at),
                }
                for f in rows
            }

    def admin_findings(self, kecamatan: str | None = None) -> list[dict[str, Any]]:
        """Open findings with their ids and who acknowledged them, most recent first;
        `kecamatan` None: the whole kabupaten."""
        q = (
            select(Finding, Village.name, Village.kecamatan_code, Kecamatan.name)
            .join(Village, col(Village.code) == col(Finding.village_code))
            .join(Kecamatan, col(Kecamatan.code) == col(Village.kecamatan_code))
            .where(Finding.status == "open")
        )
        if kecamatan is not None:
            q = q.where(Village.kecamatan_code == kecamatan)
        with Session(self.engine) as s:
            rows = s.exec(q.order_by(col(Finding.last_seen).desc(), col(Finding.id))).all()
        return [
            {
                "id": f.id,
                "village_code": f.village_code,
                "village_name": vname,
                "kecamatan_code": kcode,
                "kecamatan_name": kname,
                "kind": f.kind,
                "level": f.level,
                "url": f.url,
                "evidence": f.evidence,
                "first_seen": iso(f.first_seen),
                "last_seen": iso(f.last_seen),
                "acknowledged_by": f.acknowledged_by,
                "acknowledged_at": iso(f.acknowledged_at),
            }
            for f, vname, kcode, kname in rows
        ]
