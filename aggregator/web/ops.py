"""Operational endpoints: health (and, later, metrics) for monitoring."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aggregator.store import Store


def health(request: Request) -> JSONResponse:
    store: Store = request.app.state.store
    backlog = store.overdue_stats(datetime.now(UTC))
    return JSONResponse({"ok": True, **backlog})


def routes() -> list[Route]:
    return [Route("/healthz", health)]
