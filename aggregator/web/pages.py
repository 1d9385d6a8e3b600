"""HTML pages in Bahasa Indonesia: kabupaten overview, kecamatan, village, combined news."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.store import Store
from aggregator.web.api import int_param

PAGE_SIZE = 30


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context.setdefault("title", request.app.state.title)
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def overview(request: Request) -> Response:
    kecamatan = _store(request).kecamatan_overview()
    totals: dict[str, int] = {}
    for k in kecamatan:
        for status, n in k["counts"].items():
            totals[status] = totals.get(status, 0) + n
    return _render(
        request,
        "overview.html",
        {
            "kecamatan": kecamatan,
            "totals": totals,
            "total": sum(k["total"] for k in kecamatan),
            "ready": sum(k["ready"] for k in kecamatan),
        },
    )


def kecamatan(request: Request) -> Response:
    store = _store(request)
    kec = store.kecamatan(request.path_params["code"])
    if kec is None:
        raise HTTPException(404, "Kecamatan tidak ditemukan")
    villages = store.list_villages(kecamatan=kec["code"])
    news = store.news(kecamatan=kec["code"], limit=10)
    return _render(request, "kecamatan.html", {"kec": kec, "villages": villages, "news": news})


def village(request: Request) -> Response:
    store = _store(request)
    detail = store.village_detail(request.path_params["code"])
    if detail is None:
        raise HTTPException(404, "Desa tidak ditemukan")
    news = store.news(village=detail["code"], limit=20)
    return _render(request, "village.html", {"v": detail, "news": news})


def news(request: Request) -> Response:
    try:
        page = int_param(request, "halaman", 1, lo=1, hi=10_000)
    except ValueError:
        page = 1
    kec_code = request.query_params.get("kecamatan") or None
    q = (request.query_params.get("q") or "").strip() or None
    store = _store(request)
    items = store.news(kecamatan=kec_code, q=q, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return _render(
        request,
        "news.html",
        {
            "items": items[:PAGE_SIZE],
            "has_next": len(items) > PAGE_SIZE,
            "page": page,
            "q": q or "",
            "kec_code": kec_code or "",
            "kecamatan": store.kecamatan_overview(),
        },
    )


def routes() -> list[Route]:
    return [
        Route("/", overview),
        Route("/kecamatan/{code}", kecamatan),
        Route("/desa/{code}", village),
        Route("/berita", news),
    ]
