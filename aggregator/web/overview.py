"""Kabupaten overview: every kecamatan's counts and readiness, the trend of active villages,
and the ranked list of villages needing attention."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.scorekeeping import wib_day
from aggregator.status import STATUS_LABELS, STATUSES
from aggregator.store import Store
from aggregator.web.charts import STATUS_COLOURS, Series, line_chart
from aggregator.web.common import (
    PHASE_LABELS,
    download,
    now_utc,
    render,
    store_of,
    text_arg,
)
from aggregator.web.exports import Column, Table, field
from aggregator.web.formatting import days_since, parse_when, tanggal_pendek

# Most urgent first (issue 5): hijacked, then down, then silent, then slowing down.
ATTENTION = ("compromised", "unreachable", "inactive", "low_activity")
TREND_DAYS = 90


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


def _attention_key(v: dict[str, Any]) -> tuple[Any, ...]:
    rank = ATTENTION.index(v["status"])
    if v["status"] == "compromised":
        secondary: float = -v["open_findings"]
    else:
        when = parse_when(v["failing_since"] if v["status"] == "unreachable" else v["last_post_at"])
        secondary = when.timestamp() if when else float("-inf")  # never posted: first
    return (rank, secondary, v["score"] if v["score"] is not None else 0.0, v["code"])


def attention_list(store: Store, now: datetime, kecamatan: str | None) -> list[dict[str, Any]]:
    rows = [
        {**v, "reason": attention_reason(v, now)}
        for v in store.list_villages(kecamatan=kecamatan)
        if v["status"] in ATTENTION
    ]
    rows.sort(key=_attention_key)
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def kecamatan_rows(store: Store) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per kecamatan (roll-ups plus latest post) and the kabupaten total."""
    rollups = store.kecamatan_rollups()
    last_post = {k["code"]: k["last_post_at"] for k in store.kecamatan_overview()}
    rows = [{**k, "last_post_at": last_post.get(k["code"])} for k in rollups["kecamatan"]]
    return rows, rollups["kabupaten"]


def trend(store: Store, now: datetime, kecamatan: str | None) -> list[dict[str, Any]]:
    first: date = wib_day(now) - timedelta(days=TREND_DAYS - 1)
    return store.district_history(first, kecamatan=kecamatan)


def overview_context(store: Store, now: datetime, kecamatan: str | None) -> dict[str, Any]:
    rows, total = kecamatan_rows(store)
    names = {k["code"]: k["name"] for k in rows}
    chosen = kecamatan if kecamatan in names else None
    history = trend(store, now, chosen)
    where = f"Kecamatan {names[chosen]}" if chosen else "kabupaten"
    chart = line_chart(
        "tren-aktif",
        [
            Series(
                "Aktif",
                [(date.fromisoformat(h["day"]), h["counts"].get("active", 0)) for h in history],
                STATUS_COLOURS["active"],
            )
        ],
        title=f"Tren desa aktif, {where}, {TREND_DAYS} hari terakhir",
        desc=(
            f"Jumlah desa berstatus Aktif per hari di {where}; "
            f"{len(history)} hari tercatat. Angka lengkap ada di tabel di bawah grafik."
        ),
        y_max=float(max([1, *(h["villages"] for h in history)])),
    )

    def points(key: str) -> list[tuple[date, float | None]]:
        return [(date.fromisoformat(h["day"]), h.get(key)) for h in history]

    scores_chart = line_chart(
        "tren-skor",
        [
            Series("Skor aktivitas SID", points("mean_score"), "#0b6e4f"),
            Series("Keterbukaan Informasi", points("mean_kip"), "#1c5fa8"),
            Series("Keamanan Digital", points("mean_security"), "#a8551c"),
        ],
        title=f"Tren tiga skor rata-rata, {where}, {TREND_DAYS} hari terakhir",
        desc=(
            f"Rata-rata skor aktivitas SID, Keterbukaan Informasi dan Keamanan Digital per hari "
            f"di {where}, 0 sampai 100. Angka lengkap ada di tabel di bawah grafik."
        ),
        y_max=100.0,
    )
    return {
        "scores_chart": scores_chart,
        "kecamatan": rows,
        "totals": total["counts"],
        "total": total["villages"],
        "with_site": total["with_site"],
        "mean_score": total["mean_score"],
        "ready": total["ready_kecamatan"],
        "attention": attention_list(store, now, chosen),
        "chosen": chosen,
        "chosen_name": names.get(chosen or ""),
        "history": history,
        "trend_chart": chart,
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
    context = overview_context(store_of(request), now_utc(), text_arg(request, "kecamatan") or None)
    return render(request, "overview.html", context)


def summary_export(request: Request) -> Response:
    now = now_utc()
    rows, _ = kecamatan_rows(store_of(request))
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
