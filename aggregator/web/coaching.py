"""Pembinaan page of a kecamatan: every village's to-do list from the KIP and
security yardsticks, most urgent first, with the two scores; printable and exportable."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.web.common import download, now_utc, render, store_of
from aggregator.web.exports import Table, field

COLUMNS = [
    field("village_code", "Kode wilayah", 16),
    field("village_name", "Desa/Kelurahan", 22),
    field("rank", "Urutan", 8),
    field("theme", "Tema", 18),
    field("text", "Yang perlu dilakukan", 60),
    field("why", "Alasan", 40),
    field("url", "Alamat", 40),
    field("kip_score", "Skor Keterbukaan Informasi", 12),
    field("security_score", "Skor Keamanan Digital", 12),
]


def _kecamatan(request: Request) -> dict[str, str]:
    kec = store_of(request).kecamatan(request.path_params["code"])
    if kec is None:
        raise HTTPException(404, "Kecamatan tidak ditemukan")
    return kec


def coaching_page(request: Request) -> Response:
    kec = _kecamatan(request)
    rows = store_of(request).coaching_rows(kec["code"])
    villages: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        villages.setdefault(f"{row['village_name']} ({row['village_code']})", []).append(row)
    return render(
        request,
        "coaching.html",
        {"kec": kec, "villages": villages, "count": len(rows), "base": f"/kecamatan/{kec['code']}"},
    )


def coaching_export(request: Request) -> Response:
    kec = _kecamatan(request)
    rows = store_of(request).coaching_rows(kec["code"])
    table = Table(f"Pembinaan Kec. {kec['name']}", COLUMNS, rows, (("Kecamatan", kec["name"]),))
    return download(table, request.path_params["fmt"], f"pembinaan-{kec['code']}", now_utc())


def village_coaching_export(request: Request) -> Response:
    """One village's to-do list, to hand over at a coaching session."""
    store = store_of(request)
    detail = store.village_detail(request.path_params["code"])
    if detail is None:
        raise HTTPException(404, "Desa tidak ditemukan")
    rows = store.coaching_rows(village=detail["code"])
    notes = (("Desa/Kelurahan", detail["name"]), ("Kecamatan", detail["kecamatan_name"]))
    table = Table(f"Pembinaan {detail['name']}", COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], f"pembinaan-{detail['code']}", now_utc())


def routes() -> list[Route]:
    return [
        Route("/kecamatan/{code}/pembinaan", coaching_page),
        Route("/kecamatan/{code}/pembinaan.{fmt}", coaching_export),
        Route("/desa/{code}/pembinaan.{fmt}", village_coaching_export),
    ]
