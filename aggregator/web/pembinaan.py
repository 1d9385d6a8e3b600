"""The kabupaten Pembinaan list: every village's to-dos, most urgent village first, filtered
by kecamatan and theme, paged, printable (?cetak=1) and exportable like the kecamatan list."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.web.coaching import COLUMNS as KECAMATAN_COLUMNS
from aggregator.web.common import download, int_arg, now_utc, render, store_of, text_arg
from aggregator.web.exports import Table, field
from aggregator.web.overview import KEC_PAGE
from aggregator.yardsticks.board import BOARD_THEMES, board_page, export_rows

PAGE_SIZE = 50  # villages per page
PRINT_SIZE = 500  # villages on the print view: a whole kabupaten on paper
EXPORT_SIZE = 20_000  # villages in one export; national scale is exported per kecamatan
PATH = "/pembinaan"
# The kecamatan list's columns, with the village's kecamatan after its name.
COLUMNS = [*KECAMATAN_COLUMNS[:2], field("kecamatan_name", "Kecamatan", 18), *KECAMATAN_COLUMNS[2:]]


def _filters(request: Request) -> tuple[str | None, str]:
    theme = text_arg(request, "tema")
    return text_arg(request, "kecamatan", 16) or None, theme if theme in BOARD_THEMES else ""


def board(request: Request) -> Response:
    store = store_of(request)
    kecamatan, theme = _filters(request)
    print_view = request.query_params.get("cetak") == "1"
    size = PRINT_SIZE if print_view else PAGE_SIZE
    page = int_arg(request, "halaman", 1, lo=1, hi=100_000)
    result = board_page(
        store.engine, now_utc(), kecamatan=kecamatan, theme=theme, offset=(page - 1) * size,
        limit=size,
    )  # fmt: skip
    choices, kec_name = store.kecamatan_choices(kecamatan, KEC_PAGE)
    return render(
        request,
        "pembinaan.html",
        {
            "villages": result.villages,
            "total": result.total,
            "items": sum(len(v["items"]) for v in result.villages),
            "page": page,
            "pages": max(1, -(-result.total // size)),
            "first_shown": (page - 1) * size + 1,
            "kec_code": kecamatan or "",
            "kec_name": kec_name,
            "kecamatan": [{"code": c, "name": n} for c, n in choices]
            if choices is not None
            else None,
            "theme": theme,
            "themes": BOARD_THEMES,
            "print_view": print_view,
            "generated_at": now_utc(),
        },
    )


def board_export(request: Request) -> Response:
    now = now_utc()
    kecamatan, theme = _filters(request)
    result = board_page(
        store_of(request).engine, now, kecamatan=kecamatan, theme=theme, limit=EXPORT_SIZE
    )
    notes = [
        ("Dibuat", now.isoformat()),
        ("Kecamatan", kecamatan or "semua"),
        ("Tema", BOARD_THEMES.get(theme, "semua")),
    ]
    table = Table("Pembinaan kabupaten", COLUMNS, export_rows(result.villages), notes)
    return download(table, request.path_params["fmt"], "pembinaan-kabupaten", now)


def routes() -> list[Route]:
    return [Route(PATH, board), Route(PATH + ".{fmt}", board_export)]
