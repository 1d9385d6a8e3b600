"""Kabupaten overview: every kecamatan's counts and readiness, the trend of active villages,
and the ranked list of villages needing attention."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.clock import as_date, parse_when, wib_day
from aggregator.decide.status import ATTENTION_STATUSES, STATUS_LABELS, STATUSES
from aggregator.store import Store
from aggregator.store.summary import KecamatanRow, worst_first
from aggregator.web.charts import STATUS_COLOURS, Series, line_chart
from aggregator.web.common import (
    PHASE_LABELS,
    download,
    int_arg,
    now_utc,
    period_arg,
    render,
    store_of,
    text_arg,
)
from aggregator.web.exports import Column, Table, field
from aggregator.web.formatting import days_since, tanggal_pendek
from aggregator.web.maps import overview_map

TREND_DAYS = 90
# A kabupaten's kecamatan all fit on the page; beyond this many (a province, the whole
# country) the table is paged, searchable by name and sorted worst first by default.
KEC_PAGE = 50
# Attention rows per page: a whole kabupaten (Purbalingga has 239 villages) fits on one.
ATTENTION_PAGE = 250
KEC_SORTS = {
    "kode": "Kode kecamatan",
    "nama": "Nama kecamatan",
    "masalah": "Paling banyak desa bermasalah",
}


def attention_reason(v: dict[str, Any], now: datetime) -> str:
    """Why a village is on the attention list, in one line a coordinator can act on."""
    status = v["status"]
    if status == "compromised":
        return f"{v['open_findings']} temuan integritas terbuka: periksa dan bersihkan situs"
    if status == "unreachable":
        since = v["failing_since"] or v["status_since"]
        phase = PHASE_LABELS.get(v["last_error_phase"] or "", v["last_error_phase"] or "?")
        return (
            f"Gagal diakses {v['consecutive_failures']} kali berturut-turut sejak "
            f"{tanggal_pendek(since)} (tahap {phase})"
        )
    days = days_since(v["last_post_at"], now)
    if days is None:
        return "Belum pernah ada berita"
    return f"Tidak ada berita selama {days} hari (terakhir {tanggal_pendek(v['last_post_at'])})"


def attention_list(
    store: Store,
    now: datetime,
    kecamatan: str | None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Villages needing attention, most urgent first (all of them, or one page)."""
    return attention_page(store, now, kecamatan, offset=offset, limit=limit)[0]


def attention_page(
    store: Store,
    now: datetime,
    kecamatan: str | None,
    *,
    offset: int = 0,
    limit: int | None = None,
    counts: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the attention list (ranked from offset + 1) and its whole length."""
    villages, total = store.attention_villages(
        kecamatan=kecamatan, offset=offset, limit=limit, counts=counts
    )
    rows = [{**v, "reason": attention_reason(v, now)} for v in villages]
    for rank, row in enumerate(rows, start=offset + 1):
        row["rank"] = rank
    return rows, total


def kecamatan_table(
    rows: list[KecamatanRow], *, search: str = "", sort: str = "", page: int = 1
) -> dict[str, Any]:
    """The kecamatan table: every row for a kabupaten; past KEC_PAGE rows, one page of
    them, filtered by name (or code prefix) and sorted worst first unless asked otherwise."""
    paged = len(rows) > KEC_PAGE
    sort = sort if sort in KEC_SORTS else ("masalah" if paged else "kode")
    needle = search.casefold()
    shown = (
        [r for r in rows if needle in r.name.casefold() or r.code.startswith(search)]
        if search
        else list(rows)
    )
    if sort == "masalah":
        worst_first(shown)
    elif sort == "nama":
        shown.sort(key=lambda r: (r.name.casefold(), r.code))
    if not paged:
        return _table(shown, len(shown), len(rows), search, sort, 1, paged=False)
    page = min(max(page, 1), _pages(len(shown)))
    shown_page = shown[(page - 1) * KEC_PAGE : page * KEC_PAGE]
    return _table(shown_page, len(shown), len(rows), search, sort, page, paged=True)


def kecamatan_page_table(
    store: Store, count: int, search: str, sort: str, page: int
) -> dict[str, Any]:
    """`kecamatan_table` for more than KEC_PAGE kecamatan, filtered, sorted and paged by the
    store (Summary.kecamatan_page): the page reads 50 rows, not every kecamatan."""
    sort = sort if sort in KEC_SORTS else "masalah"
    page = max(page, 1)
    rows, matched = store.kecamatan_page(
        search=search, sort=sort, offset=(page - 1) * KEC_PAGE, limit=KEC_PAGE
    )
    if page > _pages(matched):  # past the last page: the last page, as kecamatan_table does
        page = _pages(matched)
        rows, matched = store.kecamatan_page(
            search=search, sort=sort, offset=(page - 1) * KEC_PAGE, limit=KEC_PAGE
        )
    return _table(rows, matched, count, search, sort, page, paged=True)


def _pages(matched: int) -> int:
    return max(1, -(-matched // KEC_PAGE))


def _table(
    rows: list[KecamatanRow],
    matched: int,
    count: int,
    search: str,
    sort: str,
    page: int,
    *,
    paged: bool,
) -> dict[str, Any]:
    """The kecamatan table's context: the rows shown (one page of `matched` when `paged`)
    of `count` kecamatan in all."""
    return {
        "rows": rows,
        "paged": paged,
        "matched": matched,
        "all": count,
        "search": search,
        "sort": sort,
        "sorts": KEC_SORTS,
        "page": page,
        "pages": _pages(matched) if paged else 1,
        "first_shown": (page - 1) * KEC_PAGE + 1,
    }


def trend(
    store: Store, now: datetime, kecamatan: str | None, days: int = TREND_DAYS
) -> list[dict[str, Any]]:
    first: date = wib_day(now) - timedelta(days=days - 1)
    return store.district_history(first, kecamatan=kecamatan)


def overview_context(
    store: Store,
    now: datetime,
    kecamatan: str | None,
    *,
    search: str = "",
    sort: str = "",
    kec_page: int = 1,
    page: int = 1,
    trend_days: int = TREND_DAYS,
) -> dict[str, Any]:
    total = store.kabupaten_totals()
    rows: list[KecamatanRow] | None = None
    if total["kecamatan"] > KEC_PAGE:  # a province or the country: paged in the database
        table = kecamatan_page_table(store, total["kecamatan"], search, sort, kec_page)
        chosen_name = store.kecamatan_choices(kecamatan, 0)[1] if kecamatan else None
    else:
        rows = store.kecamatan_summary_rows()[0]
        table = kecamatan_table(rows, search=search, sort=sort, page=kec_page)
        chosen_name = {k.code: k.name for k in rows}.get(kecamatan or "")
    chosen = kecamatan if chosen_name is not None else None
    pages = 1
    if chosen:  # one kecamatan: a dozen villages, all shown
        attention, attention_total = attention_page(store, now, chosen)
    else:
        total_rows = sum(total["counts"].get(s, 0) for s in ATTENTION_STATUSES)
        pages = max(1, -(-total_rows // ATTENTION_PAGE))
        page = min(max(page, 1), pages)
        attention, attention_total = attention_page(
            store,
            now,
            None,
            offset=(page - 1) * ATTENTION_PAGE,
            limit=ATTENTION_PAGE,
            counts=total["counts"],
        )
    history = trend(store, now, chosen, trend_days)
    past = [as_date(h["day"]) for h in history if h.get("reconstructed")]
    where = f"Kecamatan {chosen_name}" if chosen else "kabupaten"
    chart = line_chart(
        "tren-aktif",
        [
            Series(
                "Aktif",
                [(as_date(h["day"]), h["counts"].get("active", 0)) for h in history],
                STATUS_COLOURS["active"],
            )
        ],
        title=f"Tren desa aktif, {where}, {trend_days} hari terakhir",
        desc=(
            f"Jumlah desa berstatus Aktif per hari di {where}; "
            f"{len(history)} hari tercatat. Angka lengkap ada di tabel di bawah grafik."
        ),
        y_max=float(max([1, *(h["villages"] for h in history)])),
        reconstructed=past,
    )

    def points(key: str) -> list[tuple[date, float | None]]:
        return [(as_date(h["day"]), h.get(key)) for h in history]

    scores_chart = line_chart(
        "tren-skor",
        [
            Series("Skor aktivitas SID", points("mean_score"), "#0b6e4f"),
            Series("Keterbukaan Informasi", points("mean_kip"), "#1c5fa8"),
            Series("Keamanan Digital", points("mean_security"), "#a8551c"),
        ],
        title=f"Tren tiga skor rata-rata, {where}, {trend_days} hari terakhir",
        desc=(
            f"Rata-rata skor aktivitas SID, Keterbukaan Informasi dan Keamanan Digital per hari "
            f"di {where}, 0 sampai 100. Angka lengkap ada di tabel di bawah grafik."
        ),
        y_max=100.0,
        reconstructed=past,
    )
    return {
        # Every kecamatan's row where the page read them (a kabupaten), else None.
        "all_kecamatan": rows,
        "kabupaten_totals": total,
        "scores_chart": scores_chart,
        "kecamatan": table["rows"],
        "kec_table": table,
        # A select of every kecamatan for a kabupaten; past KEC_PAGE, a field for the code.
        "kec_choices": rows,
        "totals": total["counts"],
        "total": total["villages"],
        "with_site": total["with_site"],
        "mean_score": total["mean_score"],
        "ready": total["ready_kecamatan"],
        "attention": attention,
        "attention_total": attention_total,
        "attention_page": page if not chosen else 1,
        "attention_pages": pages,
        "chosen": chosen,
        "chosen_name": chosen_name if chosen else None,
        "history": history,
        "trend_chart": chart,
        "trend_days": trend_days,
    }


def _count_column(status: str) -> Column:
    return Column(STATUS_LABELS[status], lambda r: r["counts"].get(status, 0), 12)


SUMMARY_COLUMNS = [
    field("code", "Kode kecamatan", 14),
    field("name", "Kecamatan", 20),
    field("villages", "Desa/kelurahan", 10),
    field("with_site", "Bersitus", 10),
    *[_count_column(s) for s in STATUSES],
    field("mean_score", "Skor rata-rata", 12),
    Column("Siap Sipande", lambda r: bool(r["ready"]), 12),
    Column("Berita terakhir (WIB)", lambda r: parse_when(r["last_post_at"]), 18),
]
ATTENTION_COLUMNS = [
    field("rank", "Peringkat", 9),
    field("code", "Kode desa", 16),
    field("name", "Desa/kelurahan", 20),
    field("kecamatan_name", "Kecamatan", 18),
    Column("Status", lambda r: STATUS_LABELS.get(r["status"], r["status"]), 16),
    field("score", "Skor", 8),
    Column("Berita terakhir (WIB)", lambda r: parse_when(r["last_post_at"]), 18),
    field("open_findings", "Temuan terbuka", 10),
    field("reason", "Alasan", 60),
    field("url", "Situs", 36),
]


def overview(request: Request) -> Response:
    store = store_of(request)
    context = overview_context(
        store,
        now_utc(),
        text_arg(request, "kecamatan") or None,
        search=text_arg(request, "cari", 100),
        sort=text_arg(request, "urut"),
        kec_page=int_arg(request, "halaman_kec", 1, lo=1, hi=100_000),
        page=int_arg(request, "halaman", 1, lo=1, hi=100_000),
        trend_days=period_arg(request),
    )
    rows = context["all_kecamatan"]
    context["peta"] = overview_map(
        request,
        (lambda: rows) if rows is not None else lambda: store.kecamatan_summary_rows()[0],
        store.list_villages,
        context["kabupaten_totals"],
    )
    return render(request, "overview.html", context)


def summary_export(request: Request) -> Response:
    now = now_utc()
    rows = [r.as_dict() for r in store_of(request).kecamatan_summary_rows()[0]]
    table = Table("Ringkasan kecamatan", SUMMARY_COLUMNS, rows, [("Dibuat", now.isoformat())])
    return download(table, request.path_params["fmt"], "ringkasan-kecamatan", now)


def attention_export(request: Request) -> Response:
    now = now_utc()
    kec = text_arg(request, "kecamatan") or None
    rows = attention_list(store_of(request), now, kec)
    notes = [("Dibuat", now.isoformat()), ("Kecamatan", kec or "semua")]
    table = Table("Desa perlu perhatian", ATTENTION_COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], "perlu-perhatian", now)


def routes() -> list[Route]:
    return [
        Route("/", overview),
        Route("/ringkasan.{fmt}", summary_export),
        Route("/perhatian.{fmt}", attention_export),
    ]
