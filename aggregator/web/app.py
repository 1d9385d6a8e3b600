"""App factory: dependencies are arguments, nothing is created at import time."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.fetch import Fetcher
from aggregator.poller import Poller
from aggregator.settings import Settings
from aggregator.status import STATUS_LABELS, STATUSES
from aggregator.store import Store
from aggregator.web import api, ops, pages
from aggregator.web.formatting import sejak, tanggal

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

# Village content never gets to run script here, even if escaping were ever missed.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
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


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.autoescape = True  # every template, whatever its extension
    env.filters["tanggal"] = tanggal
    env.filters["sejak"] = sejak
    env.globals["STATUS_LABELS"] = STATUS_LABELS
    env.globals["STATUSES"] = STATUSES
    return templates


def create_app(
    settings: Settings,
    *,
    store: Store,
    run_scheduler: bool = True,
    title: str = "Sipande",
    config_path: str | None = None,
) -> Starlette:
    """The web app over `store`; with `run_scheduler` it also polls on schedule."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not run_scheduler:
            yield
            return
        from aggregator.scheduler import build_scheduler

        async with Fetcher(settings) as fetcher:
            poller = Poller(store, fetcher, settings)
            scheduler = build_scheduler(poller, store, config_path=config_path)
            scheduler.start()
            try:
                yield
            finally:
                scheduler.shutdown(wait=False)

    app = Starlette(
        routes=[*pages.routes(), *api.routes(), *ops.routes()],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.templates = make_templates()
    app.state.title = title

    return app
