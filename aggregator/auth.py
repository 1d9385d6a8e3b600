"""Access control, the parts without I/O of the web: password hashing (argon2id), accounts and
their regional scope, CSRF tokens, the login throttle, and the session secret."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aggregator.errors import AggregatorError

log = logging.getLogger(__name__)

ROLES = ("dinkominfo", "kecamatan")
ROLE_LABELS = {"dinkominfo": "Dinkominfo (seluruh kabupaten)", "kecamatan": "Operator kecamatan"}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work one request can ask for
SECRET_ENV = "SIPANDE_SECRET_KEY"
MIN_SECRET = 32

# argon2-cffi's defaults are RFC 9106's "low memory" profile: argon2id, 64 MiB, t=3, p=4
# (about 0.2 s on a 2-core server). The hash string carries them, so raising them later
# rehashes each password at its owner's next login.
_HASHER = PasswordHasher()


class AuthError(AggregatorError):
    """An account cannot be created or changed as asked (bad name, role, region, password)."""


@dataclass(frozen=True)
class Account:
    """A user as the web layer sees it; `kecamatan_code` is None for the whole kabupaten."""

    id: int
    username: str
    role: str
    kecamatan_code: str | None
    password_hash: str
    sessions_since: float | None = None  # epoch seconds; sessions begun before it are over

    @property
    def whole_kabupaten(self) -> bool:
        return self.role == "dinkominfo"

    def can_manage(self, kecamatan_code: str | None) -> bool:
        """May this user see the admin view of, and act on, villages of `kecamatan_code`?"""
        if self.whole_kabupaten:
            return True
        return kecamatan_code is not None and kecamatan_code == self.kecamatan_code

    @property
    def stamp(self) -> str:
        return session_stamp(self.password_hash)

    def session_valid(self, stamp: object, began_at: float, now: float, max_age: float) -> bool:
        """A session begun at `began_at` with `stamp` still speaks for this user at `now`."""
        if stamp != self.stamp or not 0 <= now - began_at <= max_age:
            return False
        return self.sessions_since is None or began_at > self.sessions_since


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def check_account(username: str, role: str, kecamatan_code: str | None) -> str:
    """The normalised user name, or AuthError saying what is wrong with the request."""
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise AuthError(
            f"user name {username!r}: use 2-64 characters a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise AuthError(f"role {role!r}: one of {', '.join(ROLES)}")
    if role == "kecamatan" and not (kecamatan_code and KECAMATAN_CODE.match(kecamatan_code)):
        raise AuthError("a kecamatan operator needs --kecamatan CODE (like 33.03.01)")
    if role == "dinkominfo" and kecamatan_code:
        raise AuthError("a dinkominfo user covers the whole kabupaten: leave out --kecamatan")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"the password may have at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def burn_verification(password: str) -> None:
    """As slow as a real check, for a user name that does not exist: the answer time must
    not tell an attacker which names are real."""
    verify_password(_dummy_hash(), password)


def session_stamp(password_hash: str) -> str:
    """Kept in the session and compared on every request: a new password (or a removed
    user) ends the sessions signed before it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: object, given: object) -> bool:
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class LoginThrottle:
    """At most `limit` failed logins per `window` seconds, per user name and per address.

    Kept in memory: one web process counts its own attempts (several `serve` instances each
    allow `limit`). A locked name is refused even with the right password, or the lock
    would only slow a guesser down.
    """

    MAX_KEYS = 10_000  # bounds memory when someone sprays random names

    def __init__(
        self, limit: int = 5, window: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()  # sync handlers run in a thread pool

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        return [("user", normalise_username(username)), ("addr", address)]

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this name and address may try again; 0 when they may now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(username, address):
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    wait = max(wait, times[-self.limit] + self.window - now)
        return wait

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                self._prune(now)
            for key in self._keys(username, address):
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times

    def succeeded(self, username: str) -> None:
        # Only the name is cleared: one good account must not reset a guessing address.
        with self._lock:
            self._failures.pop(("user", normalise_username(username)), None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= self.MAX_KEYS:  # all recent: drop the oldest keys
            del self._failures[next(iter(self._failures))]


def load_secret_key(path: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The key that signs sessions: `$SIPANDE_SECRET_KEY`, else the file at `path`, which
    is created (mode 0600) with a random key the first time."""
    from_env = environ.get(SECRET_ENV, "").strip()
    if from_env:
        if len(from_env) < MIN_SECRET:
            raise AuthError(f"{SECRET_ENV} must have at least {MIN_SECRET} characters")
        return from_env
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o): setting 0600", path, mode)
        path.chmod(0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET:
        raise AuthError(f"{path}: the session key must have at least {MIN_SECRET} characters")
    return key


def _create_key_file(path: Path) -> None:
    """Written whole under a temporary name, then linked into place: two processes starting
    at once never read a half-written key, and the first one's key wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
            log.info("session key created in %s", path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
