"""Kecamatan page: its villages (sortable), their combined news (filter, search, pages) and
the services matrix; with CSV/xlsx exports and a printable summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.clock import parse_when
from aggregator.decide.scoring import SERVICE_KINDS, SERVICE_LABELS, service_label
from aggregator.decide.status import STATUS_LABELS, URGENCY, is_ready
from aggregator.store import Store
from aggregator.web.common import download, int_arg, now_utc, render, store_of, text_arg
from aggregator.web.exports import Column, Table, field
from aggregator.web.maps import kecamatan_map

NEWS_PAGE = 20
EXPORT_LIMIT = 10_000  # rows in one news export; a kecamatan has a few thousand at most
# Sort key -> (label, default direction); "turun" is descending.
SORTS = {
    "nama": ("Desa/Kelurahan", "naik"),
    "status": ("Status", "naik"),
    "skor": ("Skor", "turun"),
    "kip": ("Keterbukaan Informasi", "turun"),
    "keamanan": ("Keamanan Digital", "turun"),
    "berita": ("Berita terakhir", "turun"),
    "berita30": ("Berita 30 hari", "turun"),
    "uptime": ("Ketersediaan 7 hari", "turun"),
    "temuan": ("Temuan terbuka", "turun"),
}


def _sort_value(row: dict[str, Any], key: str) -> Any:
    if key == "nama":
        return row["name"].casefold()
    if key == "status":
        # Worst first, so sorting by status answers "who needs a visit".
        return URGENCY.index(row["status"]) if row["status"] in URGENCY else 99
    if key == "skor":
        return row["score"]
    if key == "kip":
        return row.get("kip_score")
    if key == "keamanan":
        return row.get("security_score")
    if key == "berita":
        return parse_when(row["last_post_at"])
    if key == "berita30":
        return row["posts_30d"]
    if key == "uptime":
        return row["uptime"]
    return row["open_findings"]


def sort_villages(rows: list[dict[str, Any]], key: str, direction: str) -> list[dict[str, Any]]:
    """Sorted by `key`; villages without a value for it (never checked...) always go last."""
    known = [r for r in rows if _sort_value(r, key) is not None]
    unknown = [r for r in rows if _sort_value(r, key) is None]
    known.sort(key=lambda r: r["code"])
    known.sort(key=lambda r: _sort_value(r, key), reverse=direction == "turun")
    return known + sorted(unknown, key=lambda r: r["code"])


def village_rows(
    store: Store, code: str, now: datetime, sort: str = "nama", direction: str = "naik"
) -> list[dict[str, Any]]:
    days = store.settings.scoring.availability_days
    uptime = store.village_uptime(now - timedelta(days=days), kecamatan=code)
    rows = []
    for v in store.list_villages(kecamatan=code):
        checks, ok = uptime.get(v["code"], (0, 0))
        rows.append({**v, "checks_7d": checks, "uptime": ok / checks if checks else None})
    return sort_villages(rows, sort, direction)


def service_rows(store: Store, villages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per village: each SERVICE_KINDS entry as observed (None: never read)."""
    code = villages[0]["kecamatan_code"] if villages else None
    observed = store.services_by_village(kecamatan=code) if code else {}
    return [
        {
            "code": v["code"],
            "name": v["name"],
            "status": v["status"],
            "services": {k: observed.get(v["code"], {}).get(k) for k in SERVICE_KINDS},
        }
        for v in villages
    ]


@dataclass(frozen=True)
class NewsFilter:
    """The news filters of the kecamatan page (query parameters desa, kategori, q)."""

    village: str | None = None
    category: str | None = None
    q: str | None = None

    @classmethod
    def from_request(cls, request: Request) -> NewsFilter:
        return cls(
            text_arg(request, "desa") or None,
            text_arg(request, "kategori") or None,
            text_arg(request, "q") or None,
        )

    def notes(self) -> list[tuple[str, str]]:
        named = (("Desa", self.village), ("Kategori", self.category), ("Pencarian", self.q))
        return [(label, value) for label, value in named if value]


def kecamatan_context(
    store: Store,
    kec: dict[str, Any],
    now: datetime,
    *,
    sort: str = "nama",
    direction: str = "naik",
    filters: NewsFilter | None = None,
    page: int = 1,
) -> dict[str, Any]:
    f = filters or NewsFilter()
    villages = village_rows(store, kec["code"], now, sort, direction)
    total = store.count_news(kecamatan=kec["code"], village=f.village, category=f.category, q=f.q)
    pages = max(1, -(-total // NEWS_PAGE))
    page = min(page, pages)
    news = store.news(
        kecamatan=kec["code"],
        village=f.village,
        category=f.category,
        q=f.q,
        limit=NEWS_PAGE,
        offset=(page - 1) * NEWS_PAGE,
    )
    counts = {s: sum(v["status"] == s for v in villages) for s in STATUS_LABELS}
    with_site = [v for v in villages if v["url"]]
    scores = [v["score"] for v in with_site if v["score"] is not None]
    return {
        "kec": kec,
        "generated_at": now,
        "villages": villages,
        "counts": counts,
        "with_site": len(with_site),
        "mean_score": round(sum(scores) / len(scores), 1) if scores else None,
        "ready": is_ready(len(with_site), sum(v["status"] == "active" for v in with_site)),
        "sort": sort,
        "direction": direction,
        "sorts": SORTS,
        "news": news,
        "news_total": total,
        "page": page,
        "pages": pages,
        "first_shown": (page - 1) * NEWS_PAGE + 1 if news else 0,
        "filters": f,
        "categories": store.news_categories(kecamatan=kec["code"]),
        "services": service_rows(store, villages),
        "service_kinds": SERVICE_KINDS,
        "service_labels": SERVICE_LABELS,
    }


VILLAGE_COLUMNS = [
    field("code", "Kode desa", 16),
    field("name", "Desa/kelurahan", 20),
    field("type", "Jenis", 10),
    Column("Status", lambda r: STATUS_LABELS.get(r["status"], r["status"]), 16),
    field("score", "Skor", 8),
    field("kip_score", "Keterbukaan Informasi", 10),
    field("security_score", "Keamanan Digital", 10),
    Column("Berita terakhir (WIB)", lambda r: parse_when(r["last_post_at"]), 18),
    field("posts_30d", "Berita 30 hari", 10),
    field("news_count", "Berita tercatat", 10),
    Column(
        "Ketersediaan 7 hari (%)",
        lambda r: round(r["uptime"] * 100, 1) if r["uptime"] is not None else None,
        12,
    ),
    field("open_findings", "Temuan terbuka", 10),
    Column("Pemeriksaan terakhir (WIB)", lambda r: parse_when(r["last_checked_at"]), 18),
    field("last_error_phase", "Tahap gagal", 10),
    field("url", "Situs", 36),
    field("platform", "Platform", 12),
]
NEWS_COLUMNS = [
    Column("Terbit (WIB)", lambda r: parse_when(r["published_at"]), 18),
    field("village_code", "Kode desa", 16),
    field("village_name", "Desa/kelurahan", 20),
    field("category", "Kategori", 18),
    field("title", "Judul", 60),
    field("url", "Tautan", 50),
    field("summary", "Ringkasan", 80),
]


def _service_cell(kind: str) -> Column:
    def get(row: dict[str, Any]) -> str:
        return service_label(row["services"].get(kind), datetime.now(UTC))

    return Column(SERVICE_LABELS[kind], get, 14)


SERVICE_COLUMNS = [
    field("code", "Kode desa", 16),
    field("name", "Desa/kelurahan", 20),
    *[_service_cell(k) for k in SERVICE_KINDS],
]


def _kecamatan(request: Request) -> tuple[Store, dict[str, Any]]:
    store = store_of(request)
    kec = store.kecamatan(request.path_params["code"])
    if kec is None:
        raise HTTPException(404, "Kecamatan tidak ditemukan")
    return store, kec


def _sort_args(request: Request) -> tuple[str, str]:
    sort = text_arg(request, "urut")
    sort = sort if sort in SORTS else "nama"
    direction = text_arg(request, "arah")
    return sort, direction if direction in ("naik", "turun") else SORTS[sort][1]


def kecamatan_page(request: Request) -> Response:
    store, kec = _kecamatan(request)
    sort, direction = _sort_args(request)
    context = kecamatan_context(
        store,
        kec,
        now_utc(),
        sort=sort,
        direction=direction,
        filters=NewsFilter.from_request(request),
        page=int_arg(request, "halaman", 1, lo=1, hi=100_000),
    )
    context["print_view"] = request.query_params.get("cetak") == "1"
    context["peta"] = kecamatan_map(request, context["villages"], kec["name"])
    return render(request, "kecamatan.html", context)


def villages_export(request: Request) -> Response:
    store, kec = _kecamatan(request)
    now = now_utc()
    rows = village_rows(store, kec["code"], now, *_sort_args(request))
    notes = [("Kecamatan", f"{kec['name']} ({kec['code']})"), ("Dibuat", now.isoformat())]
    table = Table(f"Desa Kec. {kec['name']}", VILLAGE_COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], f"kecamatan-{kec['code']}-desa", now)


def news_export(request: Request) -> Response:
    store, kec = _kecamatan(request)
    now = now_utc()
    f = NewsFilter.from_request(request)
    rows = store.news(
        kecamatan=kec["code"], village=f.village, category=f.category, q=f.q, limit=EXPORT_LIMIT
    )
    notes = [("Kecamatan", f"{kec['name']} ({kec['code']})"), ("Dibuat", now.isoformat())]
    notes += f.notes()
    table = Table(f"Berita Kec. {kec['name']}", NEWS_COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], f"kecamatan-{kec['code']}-berita", now)


def services_export(request: Request) -> Response:
    store, kec = _kecamatan(request)
    now = now_utc()
    rows = service_rows(store, village_rows(store, kec["code"], now))
    notes = [("Kecamatan", f"{kec['name']} ({kec['code']})"), ("Dibuat", now.isoformat())]
    table = Table(f"Layanan Kec. {kec['name']}", SERVICE_COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], f"kecamatan-{kec['code']}-layanan", now)


def routes() -> list[Route]:
    return [
        Route("/kecamatan/{code}", kecamatan_page),
        Route("/kecamatan/{code}/desa.{fmt}", villages_export),
        Route("/kecamatan/{code}/berita.{fmt}", news_export),
        Route("/kecamatan/{code}/layanan.{fmt}", services_export),
    ]
