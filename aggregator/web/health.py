"""Operational endpoints for monitoring: /healthz (JSON) and /metrics (Prometheus text)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import exposition
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web.metrics import OpsSnapshot, health_body, ping, read_snapshot, render

log = logging.getLogger(__name__)

# The classic text format: every Prometheus version reads it, and our names need no escaping.
CONTENT_TYPE = getattr(exposition, "CONTENT_TYPE_PLAIN_0_0_4", exposition.CONTENT_TYPE_LATEST)


def _snapshot(request: Request, *, checks: bool) -> OpsSnapshot:
    store: Store = request.app.state.store
    ping(store)
    return read_snapshot(store, datetime.now(UTC), checks=checks)


def _scheduler_running(request: Request) -> bool | None:
    # Set by the app only once app.py keeps its scheduler on app.state; until then None,
    # and the state is inferred from the backlog.
    scheduler = getattr(request.app.state, "scheduler", None)
    running = getattr(scheduler, "running", None)
    return bool(running) if running is not None else None


# Sync handlers: Starlette runs them in its thread pool, so store reads never block the loop.
def health(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    try:
        snapshot = _snapshot(request, checks=False)  # cheap: uptime monitors call it often
    except (SQLAlchemyError, OSError) as e:
        log.error("healthz: store unreachable: %s", e)
        error = str(e).splitlines()[0][:200]
        return JSONResponse({"ok": False, "store": "unreachable", "error": error}, 503)
    return JSONResponse(health_body(snapshot, settings, _scheduler_running(request)))


def metrics(request: Request) -> Response:
    snapshot: OpsSnapshot | None
    try:
        snapshot = _snapshot(request, checks=True)
    except (SQLAlchemyError, OSError) as e:
        # Still a 200 with sipande_store_up 0: an alert can tell "store down" from "Sipande
        # down" (a failed scrape).
        log.error("metrics: store unreachable: %s", e)
        snapshot = None
    return Response(render(snapshot), media_type=CONTENT_TYPE)


def routes() -> list[Route]:
    return [Route("/healthz", health), Route("/metrics", metrics)]
