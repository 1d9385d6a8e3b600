"""Dashboard users: accounts with their role and kecamatan, passwords, and the moment
from which their sessions count (logout ends every older one).

A query about users or their sessions goes here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from aggregator.access.auth import Account, AuthError
from aggregator.clock import iso
from aggregator.models import User
from aggregator.store.base import StoreBase


def _account(u: User) -> Account:
    if u.id is None:
        raise ValueError("a user row without its id")  # only rows read back get here
    since = u.sessions_since.timestamp() if u.sessions_since else None
    return Account(u.id, u.username, u.role, u.kecamatan_code, u.password_hash, since)


class Users(StoreBase):
    """Reads and writes of dashboard users."""

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
