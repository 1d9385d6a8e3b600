"""Access control, the parts without I/O of the web: password hashing (argon2id), accounts and
their regional scope, CSRF tokens, the login throttle, and the session secret."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import stat
import threading
import time
from collections import OrderedDict
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


def address_key(address: str) -> str:
    """The unit an address is counted in: the address itself, or its /64 for IPv6 (one
    subscriber holds a whole /64, so single IPv6 addresses cost an attacker nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


class LoginThrottle:
    """Failed logins, counted so that guessing stays slow and nobody can lock an owner out.

    - a (name, address) pair is locked after `limit` failures within `window`, even with the
      right password (or the lock would only slow a guesser down);
    - an address is locked for every name after `limit` failures within `window`, except for
      names that have logged in from it before;
    - a name failing `global_limit` times within `global_window`, from any addresses, is
      slowed down for addresses it never logged in from: each further attempt waits
      `backoff` seconds after the last failure, doubling up to `window`. The owner logging in
      from a usual address is never held up by what others do.

    Memory is bounded without forgetting a lock: when `max_keys` entries are all recent, a
    pair not yet counted may not try until entries expire (known pairs still may).
    Kept in memory: one web process counts its own attempts.
    """

    MAX_KEYS = 100_000
    KNOWN_PER_NAME = 16  # addresses remembered per name that logged in from them
    MAX_KNOWN_NAMES = 10_000

    def __init__(
        self,
        limit: int = 5,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        global_limit: int = 10,
        global_window: float = 3600.0,
        backoff: float = 30.0,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.global_limit = global_limit
        self.global_window = global_window
        self.backoff = backoff
        self.max_keys = max_keys
        self._failures: dict[tuple[str, ...], list[float]] = {}
        self._known: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()
        self._lock = threading.Lock()  # sync handlers run in a thread pool

    def _recent(self, key: tuple[str, ...], now: float) -> list[float]:
        times = self._failures.get(key)
        if not times:
            return []
        span = self.global_window if key[0] == "name" else self.window
        keep = self.global_limit + 16 if key[0] == "name" else self.limit
        fresh = [t for t in times if t > now - span][-keep:]
        if len(fresh) != len(times):
            if fresh:
                self._failures[key] = fresh
            else:
                del self._failures[key]
        return fresh

    def _is_known(self, name: str, addr: str) -> bool:
        return addr in self._known.get(name, ())

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this name may try again from this address; 0 when it may now."""
        name, addr = normalise_username(username), address_key(address)
        now = self.clock()
        waits = [0.0]
        with self._lock:
            pair = self._recent(("pair", name, addr), now)
            if len(pair) >= self.limit:
                waits.append(pair[-self.limit] + self.window - now)
            if not self._is_known(name, addr):
                by_addr = self._recent(("addr", addr), now)
                if len(by_addr) >= self.limit:
                    waits.append(by_addr[-self.limit] + self.window - now)
                by_name = self._recent(("name", name), now)
                excess = len(by_name) - self.global_limit
                if excess >= 0:
                    pause = min(self.window, self.backoff * 2 ** min(excess, 30))
                    waits.append(by_name[-1] + pause - now)
                if not pair and len(self._failures) >= self.max_keys:
                    self._prune(now)
                    if len(self._failures) >= self.max_keys:
                        waits.append(self._next_expiry(now))
        return max(waits)

    def failed(self, username: str, address: str) -> None:
        name, addr = normalise_username(username), address_key(address)
        now = self.clock()
        with self._lock:
            keys = [("pair", name, addr), ("addr", addr), ("name", name)]
            if len(self._failures) + len(keys) > self.max_keys:
                self._prune(now)
            for key in keys:
                times = self._recent(key, now)
                if not times and len(self._failures) >= self.max_keys:
                    continue  # full of live entries: retry_after refuses uncounted pairs
                times.append(now)
                self._failures[key] = times

    def succeeded(self, username: str, address: str) -> None:
        """The pair's failures are forgotten and the address is remembered as the name's
        own; what others did against the name or from the address stays counted."""
        name, addr = normalise_username(username), address_key(address)
        with self._lock:
            self._failures.pop(("pair", name, addr), None)
            known = self._known.setdefault(name, OrderedDict())
            self._known.move_to_end(name)
            known[addr] = None
            known.move_to_end(addr)
            while len(known) > self.KNOWN_PER_NAME:
                known.popitem(last=False)
            while len(self._known) > self.MAX_KNOWN_NAMES:
                self._known.popitem(last=False)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)

    def _next_expiry(self, now: float) -> float:
        """Seconds until the first entry can be forgotten (the table is full)."""
        ends = [
            times[-1] + (self.global_window if key[0] == "name" else self.window)
            for key, times in self._failures.items()
        ]
        return max(1.0, min(ends, default=now) - now)


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


def private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds password hashes; SQLite
    gives its -wal and -shm files the same mode), or make an existing one so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o): setting 0600", path, mode)
        try:
            path.chmod(0o600)
        except OSError as e:
            log.warning("%s: cannot set mode 0600: %s", path, e)
