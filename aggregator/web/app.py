"""App factory: dependencies are arguments, nothing is created at import time."""

from __future__ import annotations

import contextlib
import gc
import importlib.resources
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.access.auth import load_secret_key
from aggregator.decide.status import STATUS_LABELS, STATUSES
from aggregator.fetch.client import Fetcher
from aggregator.poll.poller import Poller
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web import actions, alert_log, api, auth, health, mulai, pages
from aggregator.web.common import PERIODS, export_path, safe_url, with_query
from aggregator.web.edge import edge_middleware
from aggregator.web.formatting import angka, persen, sejak, tanggal, tanggal_pendek

log = logging.getLogger(__name__)

# The repository's templates/ directory, installed as the package `aggregator.templates`
# (pyproject.toml maps it there): the same lookup serves a wheel and an editable install.
TEMPLATES_DIR = Path(str(importlib.resources.files("aggregator.templates")))

STATIC_DIR = TEMPLATES_DIR / "static"

# Village content never gets to run script here, even if escaping were ever missed. The
# pages use no script at all and only our own stylesheet (charts use SVG attributes).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """Pure ASGI middleware adding SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PageEnvironment(jinja2.Environment):
    """Jinja for the pages: `row.code` on a plain dict reads the key first. Jinja tries
    the attribute first, and a dict's missing attribute raises: 2,250 exceptions for the
    overview's 250 attention rows (2-4 ms). A key missing from the dict falls back to
    Jinja's own order, so `counts.get(...)` and `sorts.items()` keep working."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_templates() -> Jinja2Templates:
    env = PageEnvironment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    templates = Jinja2Templates(env=env)
    env.autoescape = True  # every template, whatever its extension
    env.filters.update(
        tanggal=tanggal,
        tanggal_pendek=tanggal_pendek,
        sejak=sejak,
        angka=angka,
        persen=persen,
        safe_url=safe_url,
    )
    env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        STATUSES=STATUSES,
        with_query=with_query,
        export_path=export_path,
        PERIODS=PERIODS,
    )
    return templates


async def not_found(request: Request, exc: Exception) -> Response:
    """Pages answer 404 in Bahasa Indonesia; the JSON API keeps JSON."""
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    if not detail or detail == "Not Found":  # Starlette's own words for an unknown path
        detail = "Alamat yang diminta tidak ada di Sipande."
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail}, status_code=404)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"title": request.app.state.title, "message": detail},
        status_code=404,
    )
    return response


def settle_heap() -> None:
    """Keep what is loaded by now (modules, templates, the ORM's mappings: most of the
    process's objects) out of the cyclic garbage collector's scans. A full collection over
    them took ~100 ms and landed on whichever request happened to trigger it: the p95 of
    every page at national scale (bench_scale.py) was p50 + 100 ms."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings,
    *,
    store: Store,
    run_scheduler: bool = True,
    title: str = "Sipande",
    config_path: str | None = None,
    secret_key: str | None = None,
) -> Starlette:
    """The web app over `store`; with `run_scheduler` it also polls on schedule. Sessions
    are signed with `secret_key`, else $SIPANDE_SECRET_KEY, else a key file (web/auth.py)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not run_scheduler:
            yield
            return
        from aggregator.service.scheduler import build_scheduler

        async with Fetcher(settings) as fetcher:
            poller = Poller(store, fetcher, settings)
            scheduler = build_scheduler(poller, store, config_path=config_path)
            scheduler.start()
            app.state.scheduler = scheduler  # /healthz reports whether it runs (web/health.py)
            try:
                yield
            finally:
                scheduler.shutdown(wait=False)

    app = Starlette(
        routes=[
            *pages.routes(),
            *api.routes(),
            *health.routes(),
            *auth.routes(),
            *actions.routes(),
            *mulai.routes(),
            *alert_log.routes(),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            *edge_middleware(settings),
            Middleware(SecurityHeaders),
            *auth.middleware(
                settings, store, secret_key or load_secret_key(auth.secret_key_path(store))
            ),
        ],
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.templates = make_templates()
    app.state.title = title
    app.state.config_path = config_path  # the Mulai page edits it (web/mulai.py)
    auth.setup(app)
    settle_heap()

    return app
