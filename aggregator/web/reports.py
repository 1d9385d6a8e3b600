"""The "Tidak aktif" report: villages inactive or unreachable for at least N days, across all
kecamatan; the list Dinkominfo takes to a coaching meeting (page, print view, exports)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.clock import parse_when
from aggregator.decide.status import STATUS_LABELS
from aggregator.store import Store
from aggregator.web.common import download, int_arg, now_utc, render, store_of
from aggregator.web.exports import Column, Table, field
from aggregator.web.formatting import days_since
from aggregator.web.overview import attention_reason

DEFAULT_DAYS = 30
REPORTED = ("inactive", "unreachable")


def problem_since(v: dict[str, Any]) -> str | None:
    """Since when the village has been silent (last post) or down (first failed check)."""
    if v["status"] == "unreachable":
        since: str | None = v["failing_since"] or v["status_since"]
        return since
    last: str | None = v["last_post_at"]
    return last


def inactive_rows(store: Store, now: datetime, min_days: int) -> list[dict[str, Any]]:
    """Grouped by kecamatan, longest first; a village that never posted counts as longest."""
    rows = []
    for v in store.list_villages():
        if v["status"] not in REPORTED:
            continue
        since = problem_since(v)
        days = days_since(since, now)
        if days is not None and days < min_days:
            continue
        rows.append({**v, "since": since, "days": days, "reason": attention_reason(v, now)})
    rows.sort(key=lambda r: (r["kecamatan_code"], -(r["days"] if r["days"] is not None else 10**6)))
    return rows


def report_context(store: Store, now: datetime, min_days: int) -> dict[str, Any]:
    rows = inactive_rows(store, now, min_days)
    per_kec = Counter(r["kecamatan_name"] for r in rows)
    return {
        "rows": rows,
        "days": min_days,
        "per_kecamatan": sorted(per_kec.items()),
        "counts": Counter(r["status"] for r in rows),
        "generated_at": now,
    }


REPORT_COLUMNS = [
    field("kecamatan_name", "Kecamatan", 18),
    field("code", "Kode desa", 16),
    field("name", "Desa/kelurahan", 20),
    Column("Status", lambda r: STATUS_LABELS.get(r["status"], r["status"]), 16),
    Column("Bermasalah sejak (WIB)", lambda r: parse_when(r["since"]), 18),
    field("days", "Lama (hari)", 10),
    Column("Berita terakhir (WIB)", lambda r: parse_when(r["last_post_at"]), 18),
    field("score", "Skor", 8),
    field("reason", "Keterangan", 60),
    field("url", "Situs", 36),
]


def _days(request: Request) -> int:
    return int_arg(request, "hari", DEFAULT_DAYS, lo=0, hi=3650)


def inactive_report(request: Request) -> Response:
    context = report_context(store_of(request), now_utc(), _days(request))
    context["print_view"] = request.query_params.get("cetak") == "1"
    return render(request, "inactive.html", context)


def inactive_export(request: Request) -> Response:
    now, days = now_utc(), _days(request)
    rows = inactive_rows(store_of(request), now, days)
    notes = [
        ("Laporan", f"Tidak aktif atau tidak terjangkau ≥ {days} hari"),
        ("Dibuat", now.isoformat()),
    ]
    table = Table("Desa tidak aktif", REPORT_COLUMNS, rows, notes)
    return download(table, request.path_params["fmt"], f"tidak-aktif-{days}-hari", now)


def routes() -> list[Route]:
    return [
        Route("/laporan/tidak-aktif", inactive_report),
        Route("/laporan/tidak-aktif.{fmt}", inactive_export),
    ]
