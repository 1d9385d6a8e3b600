"""Village page: score with each component and its reason, status and uptime history as SVG,
latest news, services and metrics with trends, checks and findings; plus their exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.clock import as_date, parse_when
from aggregator.decide.scoring import SERVICE_KINDS, SERVICE_LABELS, service_label
from aggregator.decide.status import STATUS_LABELS
from aggregator.store import Store
from aggregator.web.charts import Series, bar_chart, line_chart, sparkline, status_strip
from aggregator.web.common import (
    FINDING_LABELS,
    PHASE_LABELS,
    download,
    now_utc,
    period_arg,
    render,
    store_of,
)
from aggregator.web.exports import Column, Table, field
from aggregator.web.formatting import angka
from aggregator.web.kecamatan import EXPORT_LIMIT, NEWS_COLUMNS

HISTORY_DAYS = 90
METRIC_DAYS = 30
LATEST_NEWS = 10
METRIC_LABELS = {
    "visitors_today": "Pengunjung hari ini",
    "visitors_yesterday": "Pengunjung kemarin",
    "visitors_total": "Total pengunjung",
    "articles_total": "Jumlah artikel",
    "pages_total": "Jumlah halaman",
    "officials_present": "Perangkat desa hadir",
}


def _charts(code: str, name: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    if not history:
        return {}
    days = [as_date(h["day"]) for h in history]
    past = [d for d, h in zip(days, history, strict=True) if h.get("reconstructed")]
    span = f"{len(history)} hari terakhir yang tercatat"
    if past:
        span += f", {len(past)} hari di antaranya direkonstruksi dari arsip berita"
    return {
        "status": status_strip(
            "riwayat-status",
            [(d, h["status"]) for d, h in zip(days, history, strict=True)],
            title=f"Riwayat status {name}",
            desc=f"Status harian {name}, {span}; warna sesuai status, rinciannya di tabel.",
            reconstructed=past,
        ),
        "uptime": bar_chart(
            "riwayat-uptime",
            [(d, h["uptime"]) for d, h in zip(days, history, strict=True)],
            title=f"Ketersediaan harian situs {name}",
            desc=f"Bagian pemeriksaan yang berhasil per hari, {span}.",
        ),
        "score": line_chart(
            "riwayat-skor",
            [Series("Skor", [(d, h["score"]) for d, h in zip(days, history, strict=True)])],
            title=f"Skor keaktifan {name}",
            desc=f"Skor 0–100 per hari, {span}.",
            y_max=100.0,
            reconstructed=past,
        ),
    }


def _metrics(store: Store, code: str, now: datetime) -> list[dict[str, Any]]:
    out = []
    series = store.metric_series(code, now - timedelta(days=METRIC_DAYS))
    for name, points in sorted(series.items()):
        values = [v for _, v in points]
        label = METRIC_LABELS.get(name, name)
        out.append(
            {
                "name": name,
                "label": label,
                "value": values[-1],
                "at": points[-1][0],
                "change": values[-1] - values[0] if len(values) > 1 else None,
                "spark": sparkline(
                    values,
                    label=f"{label}: dari {angka(values[0])} menjadi {angka(values[-1])} "
                    f"dalam {METRIC_DAYS} hari",
                ),
            }
        )
    return out


def _services(detail: dict[str, Any]) -> list[dict[str, Any]]:
    observed = {s["kind"]: s for s in detail["services"]}
    kinds = [*SERVICE_KINDS, *sorted(k for k in observed if k not in SERVICE_KINDS)]
    return [{"kind": k, "label": SERVICE_LABELS.get(k, k), "obs": observed.get(k)} for k in kinds]


def village_context(
    store: Store, code: str, now: datetime, history_days: int = HISTORY_DAYS
) -> dict[str, Any] | None:
    detail = store.village_detail(code)
    if detail is None:
        return None
    history = store.village_history(code, history_days, now)
    days = store.settings.scoring.availability_days
    uptime = store.village_uptime(now - timedelta(days=days), village=code)
    checks, ok = uptime.get(code, (0, 0))
    return {
        "v": detail,
        "history": history,
        "history_days": history_days,
        "charts": _charts(code, detail["name"], history),
        "news": store.news(village=code, limit=LATEST_NEWS),
        "news_total": store.count_news(village=code),
        "services": _services(detail),
        "metrics": _metrics(store, code, now),
        "uptime": ok / checks if checks else None,
        "uptime_checks": checks,
        "uptime_days": days,
        "phase_labels": PHASE_LABELS,
        "finding_labels": FINDING_LABELS,
    }


CHECK_COLUMNS = [
    Column("Waktu (WIB)", lambda r: parse_when(r["started_at"]), 18),
    Column("Hasil", lambda r: "berhasil" if r["ok"] else "gagal", 10),
    Column("Tahap gagal", lambda r: PHASE_LABELS.get(r["phase"] or "", r["phase"]), 18),
    field("status_code", "Kode HTTP", 10),
    field("duration_ms", "Durasi (ms)", 10),
    field("new_items", "Berita baru", 10),
    field("message", "Keterangan", 60),
    field("url", "Alamat", 40),
]
FINDING_COLUMNS = [
    Column("Jenis", lambda r: FINDING_LABELS.get(r["kind"], r["kind"]), 24),
    field("status", "Status", 10),
    Column("Pertama terlihat (WIB)", lambda r: parse_when(r["first_seen"]), 18),
    Column("Terakhir terlihat (WIB)", lambda r: parse_when(r["last_seen"]), 18),
    field("url", "Alamat", 40),
    field("evidence", "Bukti", 80),
]


COMPONENT_COLUMNS = [
    field("label", "Komponen", 22),
    Column("Nilai (%)", lambda r: round(r["value"] * 100, 1) if r["value"] is not None else None),
    field("weight", "Bobot", 8),
    field("points", "Poin", 8),
    field("reason", "Alasan", 70),
]
SERVICE_COLUMNS = [
    field("label", "Layanan", 22),
    Column("Keadaan", lambda r: service_label(r["obs"], datetime.now(UTC), with_count=False), 18),
    Column("Jumlah", lambda r: r["obs"]["count"] if r["obs"] else None, 10),
    Column("Tanggal terakhir", lambda r: parse_when(r["obs"]["last_date"]) if r["obs"] else None),
    Column("Diperiksa (WIB)", lambda r: parse_when(r["obs"]["checked_at"]) if r["obs"] else None),
    Column("Tautan", lambda r: r["obs"]["url"] if r["obs"] else None, 40),
]
METRIC_COLUMNS = [
    field("label", "Metrik", 24),
    Column("Waktu (WIB)", lambda r: parse_when(r["at"]), 18),
    field("value", "Nilai", 12),
]
HISTORY_COLUMNS = [
    Column("Tanggal", lambda r: as_date(r["day"]), 12),
    Column("Status", lambda r: STATUS_LABELS.get(r["status"], r["status"]), 16),
    field("score", "Skor", 8),
    Column(
        "Ketersediaan (%)",
        lambda r: round(r["uptime"] * 100, 1) if r["uptime"] is not None else None,
        12,
    ),
    field("checks", "Pemeriksaan", 10),
    field("mean_response_ms", "Rata-rata respons (ms)", 14),
    Column(
        "Sumber", lambda r: "rekonstruksi arsip berita" if r["reconstructed"] else "terukur", 14
    ),
]


def _detail(request: Request) -> tuple[Store, dict[str, Any]]:
    store = store_of(request)
    detail = store.village_detail(request.path_params["code"])
    if detail is None:
        raise HTTPException(404, "Desa tidak ditemukan")
    return store, detail


def village_page(request: Request) -> Response:
    store = store_of(request)
    context = village_context(store, request.path_params["code"], now_utc(), period_arg(request))
    if context is None:
        raise HTTPException(404, "Desa tidak ditemukan")
    # Keterbukaan Informasi, Keamanan Digital and the coaching list.
    context["yard"] = store.latest_yardsticks(request.path_params["code"])
    return render(request, "village.html", context)


def _export(
    request: Request, v: dict[str, Any], what: str, columns: list[Column], rows: Any
) -> Response:
    now = now_utc()
    notes = [("Desa", f"{v['name']} ({v['code']})"), ("Dibuat", now.isoformat())]
    table = Table(f"{what.capitalize()} {v['name']}", columns, rows, notes)
    return download(table, request.path_params["fmt"], f"desa-{v['code']}-{what}", now)


def news_export(request: Request) -> Response:
    store, v = _detail(request)
    rows = store.news(village=v["code"], limit=EXPORT_LIMIT)
    return _export(request, v, "berita", NEWS_COLUMNS, rows)


def checks_export(request: Request) -> Response:
    _, v = _detail(request)
    return _export(request, v, "pemeriksaan", CHECK_COLUMNS, v["recent_checks"])


def findings_export(request: Request) -> Response:
    _, v = _detail(request)
    return _export(request, v, "temuan", FINDING_COLUMNS, v["findings"])


def history_export(request: Request) -> Response:
    store, v = _detail(request)
    rows = store.village_history(v["code"], period_arg(request), now_utc())
    return _export(request, v, "riwayat", HISTORY_COLUMNS, rows)


def score_export(request: Request) -> Response:
    _, v = _detail(request)
    rows = list(v["score_components"])
    if v["score_penalty"]:
        rows.append({"label": "Penalti", "value": None, "weight": None, "points": None,
                     "reason": v["score_penalty"]})  # fmt: skip
    rows.append({"label": "Skor", "value": None, "weight": None, "points": v["score"],
                 "reason": ""})  # fmt: skip
    return _export(request, v, "skor", COMPONENT_COLUMNS, rows)


def services_export(request: Request) -> Response:
    _, v = _detail(request)
    return _export(request, v, "layanan", SERVICE_COLUMNS, _services(v))


def metrics_export(request: Request) -> Response:
    store, v = _detail(request)
    series = store.metric_series(v["code"], now_utc() - timedelta(days=METRIC_DAYS))
    rows = [
        {"label": METRIC_LABELS.get(name, name), "at": at, "value": value}
        for name, points in sorted(series.items())
        for at, value in points
    ]
    return _export(request, v, "metrik", METRIC_COLUMNS, rows)


def routes() -> list[Route]:
    return [
        Route("/desa/{code}", village_page),
        Route("/desa/{code}/berita.{fmt}", news_export),
        Route("/desa/{code}/pemeriksaan.{fmt}", checks_export),
        Route("/desa/{code}/temuan.{fmt}", findings_export),
        Route("/desa/{code}/riwayat.{fmt}", history_export),
        Route("/desa/{code}/skor.{fmt}", score_export),
        Route("/desa/{code}/layanan.{fmt}", services_export),
        Route("/desa/{code}/metrik.{fmt}", metrics_export),
    ]
