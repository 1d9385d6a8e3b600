"""Login and logout, the signed session, the gate that makes read views login-only when the
dashboard is not public, and the guards every action goes through (login, CSRF, scope)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.access.auth import (
    Account,
    LoginThrottle,
    burn_verification,
    csrf_matches,
    hash_password,
    needs_rehash,
    new_csrf_token,
    normalise_username,
    verify_password,
)
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web.common import now_utc, render, store_of

log = logging.getLogger(__name__)

LOGIN_PATH = "/masuk"
LOGOUT_PATH = "/keluar"
HOME_AFTER_LOGIN = "/admin"
SESSION_COOKIE = "sipande_sesi"
SESSION_MAX_AGE = 12 * 3600  # a working day; then log in again
# Reachable without a login even when the dashboard is not public: the login itself, our
# stylesheet, and the monitoring endpoints (nginx restricts those to the office, deploy §4).
OPEN_PATHS = (LOGIN_PATH, LOGOUT_PATH, "/healthz", "/metrics")
OPEN_PREFIXES = ("/static/",)
MAX_FORM_BYTES = 16 * 1024
USER_KEY = "sipande.user"  # where the gate leaves the logged-in Account in the ASGI scope
STALE_FORM = "Formulir ini tidak sah atau sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."


class Denied(Exception):
    """Refuse the request with a page (or JSON) saying why, in Bahasa Indonesia."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def secret_key_path(store: Store) -> Path:
    """Beside a SQLite store (a writable place in every deployment); data/ otherwise."""
    url = make_url(store.url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        return Path(url.database).parent / "secret.key"
    return Path("data") / "secret.key"


def middleware(settings: Settings, store: Store, secret_key: str) -> list[Middleware]:
    """Session then gate, in this order (the gate reads the session)."""
    return [
        Middleware(
            SessionMiddleware,
            secret_key=secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
        Middleware(AccessGate, store=store, public=settings.public_dashboard),
    ]


def _session_user(store: Store, session: dict[str, Any]) -> Account | None:
    uid, at = session.get("uid"), session.get("at")
    if not isinstance(uid, int) or not isinstance(at, int | float):
        return None
    user = store.user_by_id(uid)
    if user is None or not user.session_valid(
        session.get("stamp"), at, time.time(), SESSION_MAX_AGE
    ):
        return None  # removed, new password, logged out, or simply too old
    return user


class AccessGate:
    """Pure ASGI: finds the logged-in user (only when the session names one, so anonymous
    readers cost no query) and, when the dashboard is not public, sends everyone else to
    the login page (the JSON API answers 401)."""

    def __init__(self, app: ASGIApp, store: Store, public: bool) -> None:
        self.app = app
        self.store = store
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session: dict[str, Any] = scope.get("session", {})
        user = None
        if "uid" in session:
            user = await run_in_threadpool(_session_user, self.store, session)
            if user is None:
                session.clear()  # expired or revoked: the cookie is dropped
        scope[USER_KEY] = user
        path: str = scope["path"]
        if user is not None and not path.startswith(OPEN_PREFIXES):
            # A page drawn for a logged-in user carries their CSRF token: never cached.
            await self.app(scope, receive, _no_store(send))
            return
        if self.public or _open(path):
            await self.app(scope, receive, send)
            return
        response: Response
        if path.startswith("/api/"):
            response = JSONResponse({"error": "login required"}, status_code=401)
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            wanted = path + (f"?{query}" if query else "")
            response = RedirectResponse(login_url(wanted), status_code=303)
        await response(scope, receive, send)


def _no_store(send: Send) -> Send:
    async def send_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message)["cache-control"] = "no-store"
        await send(message)

    return send_no_store


def _open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


# -- helpers for handlers and templates ------------------------------------------------


def current_user(request: Request) -> Account | None:
    user = request.scope.get(USER_KEY)
    return user if isinstance(user, Account) else None


def csrf_token(request: Request) -> str:
    """The session's synchronizer token, created on first use (a form is being drawn)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def pop_flash(request: Request) -> str:
    if "session" not in request.scope or "flash" not in request.session:
        return ""
    return str(request.session.pop("flash"))


def can_manage(request: Request, kecamatan_code: str | None) -> bool:
    user = current_user(request)
    return user is not None and user.can_manage(kecamatan_code)


def safe_next(value: object, default: str = HOME_AFTER_LOGIN) -> str:
    """A local path to go to after a login or an action; anything else (another site,
    `//host`, a scheme) gives `default`, so the form cannot be an open redirect."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 for c in value):
        return default
    return value


def login_url(next_path: str = "") -> str:
    return LOGIN_PATH + (f"?next={quote(next_path, safe='/')}" if next_path else "")


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form body, at most MAX_FORM_BYTES; anything else reads as empty (and
    then fails its CSRF check). No multipart: no form of ours uploads files."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "Formulir terlalu besar")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=64
        )
    except ValueError:
        return {}
    return dict(pairs)


Handler = Callable[[Request], Awaitable[Response]]
ActionHandler = Callable[[Request, Account, dict[str, str]], Awaitable[Response]]


def login_required(handler: Callable[[Request, Account], Awaitable[Response]]) -> Handler:
    """For admin views: no session, go to the login page and come back."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        user = current_user(request)
        if user is None:
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(login_url(wanted), status_code=303)
        return await handler(request, user)  # the gate marks it no-store

    return endpoint


def action(handler: ActionHandler) -> Handler:
    """For every POST that changes something: a login (else to the login page), then the
    form's CSRF token must match the session's (else 403). Scope is the handler's check."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        user = current_user(request)
        if user is None:
            return RedirectResponse(login_url(), status_code=303)
        form = await read_form(request)
        if not csrf_matches(request.session.get("csrf"), form.get("csrf")):
            log.warning(
                "user=%s: %s refused: CSRF token missing or wrong", user.username, request.url.path
            )
            raise Denied(STALE_FORM)
        return await handler(request, user, form)

    return endpoint


def require_scope(user: Account, kecamatan_code: str | None) -> None:
    if not user.can_manage(kecamatan_code):
        log.warning(
            "user=%s: refused outside its kecamatan %s (asked %s)",
            user.username,
            user.kecamatan_code,
            kecamatan_code,
        )
        raise Denied("Anda hanya berwenang atas desa di kecamatan Anda sendiri.")


async def denied(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, Denied) else "Akses ditolak."
    status = exc.status if isinstance(exc, Denied) else 403
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    response = render(request, "denied.html", {"message": message}, status=status)
    response.headers["cache-control"] = "no-store"
    return response


# -- login and logout --------------------------------------------------------------------


def _login_page(
    request: Request, *, error: str = "", username: str = "", next_path: str = "", status: int = 200
) -> Response:
    response = render(
        request,
        "login.html",
        {"error": error, "username": username, "next": safe_next(next_path, "")},
        status=status,
    )
    response.headers["cache-control"] = "no-store"
    return response


async def login_form(request: Request) -> Response:
    next_path = request.query_params.get("next", "")
    if current_user(request) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return _login_page(request, next_path=next_path)


def _authenticate(store: Store, username: str, password: str) -> Account | None:
    user = store.user_by_name(username)
    if user is None:
        burn_verification(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):  # the hashing parameters were raised since
        store.set_password_hash(user.id, hash_password(password))
        user = store.user_by_id(user.id)
    return user


async def login(request: Request) -> Response:
    form = await read_form(request)
    username = normalise_username(form.get("username", ""))[:64]
    next_path = form.get("next", "")
    if not csrf_matches(request.session.get("csrf"), form.get("csrf")):
        error = "Formulir sudah kedaluwarsa. Silakan coba masuk lagi."
        return _login_page(request, error=error, username=username, next_path=next_path, status=403)
    address = request.client.host if request.client else "-"
    throttle: LoginThrottle = request.app.state.login_throttle
    wait = throttle.retry_after(username, address)
    if wait > 0:
        log.warning("login refused (throttled): user=%r address=%s", username, address)
        minutes = max(1, round(wait / 60))
        error = f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit."
        response = _login_page(
            request, error=error, username=username, next_path=next_path, status=429
        )
        response.headers["retry-after"] = str(int(wait) + 1)
        return response
    password = form.get("password", "")
    user = await run_in_threadpool(_authenticate, store_of(request), username, password)
    if user is None:
        throttle.failed(username, address)
        log.warning("login failed: user=%r address=%s", username, address)
        error = "Nama pengguna atau kata sandi salah."
        return _login_page(request, error=error, username=username, next_path=next_path, status=400)
    throttle.succeeded(username, address)
    log.info("login: user=%s address=%s", user.username, address)
    # A fresh session (and CSRF token) at every login: nothing from before carries over.
    request.session.clear()
    request.session.update(uid=user.id, stamp=user.stamp, at=time.time(), csrf=new_csrf_token())
    flash(request, f"Selamat datang, {user.username}.")
    return RedirectResponse(safe_next(next_path), status_code=303)


async def logout(request: Request) -> Response:
    user = current_user(request)
    if user is None:  # nothing to end (the session expired already)
        return RedirectResponse("/", status_code=303)
    form = await read_form(request)
    if not csrf_matches(request.session.get("csrf"), form.get("csrf")):
        raise Denied(STALE_FORM)  # a forged logout: another site cannot log officers out
    log.info("logout: user=%s", user.username)
    # A signed cookie cannot be recalled: the store's sessions_since ends every session of
    # the user begun until now, a copy of this cookie included (their other devices too).
    await run_in_threadpool(store_of(request).end_sessions, user.id, now_utc())
    request.session.clear()
    flash(request, "Anda sudah keluar.")
    return RedirectResponse("/", status_code=303)


def routes() -> list[Route]:
    return [
        Route(LOGIN_PATH, login_form, methods=["GET"]),
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route(LOGOUT_PATH, logout, methods=["POST"]),
    ]


def setup(app: Starlette) -> None:
    """What the templates and handlers need: the throttle and the template helpers."""
    app.state.login_throttle = LoginThrottle()
    app.state.templates.env.globals.update(
        current_user=current_user,
        csrf_token=csrf_token,
        pop_flash=pop_flash,
        can_manage=can_manage,
        login_url=login_url,
        open_findings_by_kind=app.state.store.open_findings_by_kind,  # village page buttons
    )
    app.add_exception_handler(Denied, denied)
