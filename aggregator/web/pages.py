"""HTML pages in Bahasa Indonesia: the combined news of the kabupaten, and every page route
(overview, kecamatan, village, reports, feeds) gathered for the app factory."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aggregator.web import coaching, feeds, kecamatan, overview, pembinaan, reports, village
from aggregator.web.common import (
    download,
    int_arg,
    now_utc,
    render,
    store_of,
    text_arg,
)
from aggregator.web.exports import Table
from aggregator.web.kecamatan import EXPORT_LIMIT, NEWS_COLUMNS
from aggregator.web.overview import KEC_PAGE

PAGE_SIZE = 30
# Past this many matches the page says "more than" instead of counting all two million.
# Counting is what a national search of a common word spends its time on (PostgreSQL reads
# every match's index entry up to the cap: 140-300 ms for 10,000 "posyandu"); 1,000 is 33
# pages of results, and the pager reads ahead one row, not the count.
COUNT_CAP = 1_000

__all__ = ["PAGE_SIZE", "routes"]


def news(request: Request) -> Response:
    page = int_arg(request, "halaman", 1, lo=1, hi=10_000)
    kec_code = text_arg(request, "kecamatan") or None
    q = text_arg(request, "q") or None
    store = store_of(request)
    total = store.count_news(kecamatan=kec_code, q=q, cap=COUNT_CAP)
    items = store.news(kecamatan=kec_code, q=q, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    choices, kec_name = store.kecamatan_choices(kec_code, KEC_PAGE)
    return render(
        request,
        "news.html",
        {
            "items": items[:PAGE_SIZE],
            "total": total,
            "more_than": COUNT_CAP if total > COUNT_CAP else None,
            "has_next": len(items) > PAGE_SIZE,
            "page": page,
            "first_shown": (page - 1) * PAGE_SIZE + 1 if items else 0,
            "q": q or "",
            "kec_code": kec_code or "",
            # A select for a kabupaten's kecamatan; a field for the code past KEC_PAGE.
            "kecamatan": [{"code": c, "name": n} for c, n in choices]
            if choices is not None
            else None,
            "kec_name": kec_name,
        },
    )


def news_export(request: Request) -> Response:
    now = now_utc()
    kec_code = text_arg(request, "kecamatan") or None
    q = text_arg(request, "q") or None
    rows = store_of(request).news(kecamatan=kec_code, q=q, limit=EXPORT_LIMIT)
    notes = [("Dibuat", now.isoformat()), ("Kecamatan", kec_code or "semua")]
    if q:
        notes.append(("Pencarian", q))
    table = Table("Berita gabungan", NEWS_COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], "berita", now)


def routes() -> list[BaseRoute]:
    return [
        *overview.routes(),
        *feeds.routes(),
        *kecamatan.routes(),
        *coaching.routes(),
        *pembinaan.routes(),
        *village.routes(),
        *reports.routes(),
        Route("/berita", news),
        Route("/berita.{fmt}", news_export),
    ]
