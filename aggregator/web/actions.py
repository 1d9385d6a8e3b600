"""The admin view and the actions officers take from it (and from a village page): acknowledge
a finding, re-poll a village now, change the status windows and score weights. Every one
needs a login and a CSRF token, and a kecamatan operator reaches only its own kecamatan."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from aggregator.access.auth import Account
from aggregator.decide.thresholds import THRESHOLDS, current_value, parse_form
from aggregator.store import Store
from aggregator.web.auth import (
    Denied,
    action,
    flash,
    login_required,
    require_scope,
    safe_next,
)
from aggregator.web.common import FINDING_LABELS, now_utc, render, store_of
from aggregator.web.formatting import tanggal

log = logging.getLogger(__name__)

ADMIN = "/admin"


def _threshold_rows(store: Store) -> list[dict[str, Any]]:
    rows = []
    for t in THRESHOLDS:
        value = current_value(store.settings, t.key)
        from_file = current_value(store.file_settings, t.key)
        rows.append(
            {"t": t, "value": value, "from_file": from_file, "overridden": value != from_file}
        )
    return rows


def admin_context(store: Store, user: Account, kecamatan: dict[str, Any] | None) -> dict[str, Any]:
    """What the admin view shows: open findings in scope, the villages of a chosen
    kecamatan (the whole kabupaten is too long to list), and for Dinkominfo the
    kecamatan list and (on the kabupaten view) the thresholds."""
    code = kecamatan["code"] if kecamatan else None
    villages = [v for v in store.list_villages(kecamatan=code) if v["url"]] if code else []
    return {
        "user": user,
        "kec": kecamatan,
        "findings": store.admin_findings(code),
        "villages": villages,
        "kecamatan_list": store.kecamatan_overview() if user.whole_kabupaten else [],
        "thresholds": _threshold_rows(store) if user.whole_kabupaten and not code else [],
        "problems": [],
        "finding_labels": FINDING_LABELS,
    }


def _kecamatan(store: Store, code: str) -> dict[str, Any]:
    kec = store.kecamatan(code)
    if kec is None:
        raise HTTPException(404, "Kecamatan tidak ditemukan")
    return kec


def _render_admin(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return render(request, "admin.html", context, status=status)


@login_required
async def admin(request: Request, user: Account) -> Response:
    """Dinkominfo: the whole kabupaten; an operator: its own kecamatan."""
    store = store_of(request)
    if user.whole_kabupaten or user.kecamatan_code is None:
        context = await run_in_threadpool(admin_context, store, user, None)
    else:
        kec = await run_in_threadpool(_kecamatan, store, user.kecamatan_code)
        context = await run_in_threadpool(admin_context, store, user, kec)
    return _render_admin(request, context)


@login_required
async def admin_kecamatan(request: Request, user: Account) -> Response:
    store = store_of(request)
    code = request.path_params["code"]
    require_scope(user, code)
    kec = await run_in_threadpool(_kecamatan, store, code)
    return _render_admin(request, await run_in_threadpool(admin_context, store, user, kec))


def _back(form: dict[str, str]) -> RedirectResponse:
    return RedirectResponse(safe_next(form.get("next"), ADMIN), status_code=303)


@action
async def acknowledge(request: Request, user: Account, form: dict[str, str]) -> Response:
    store = store_of(request)
    try:
        finding_id = int(request.path_params["id"])
    except ValueError:
        raise HTTPException(404, "Temuan tidak ditemukan") from None
    where = await run_in_threadpool(store.finding_village, finding_id)
    if where is None:
        raise HTTPException(404, "Temuan tidak ditemukan")
    village_code, kec_code = where
    require_scope(user, kec_code)
    await run_in_threadpool(store.acknowledge_finding, finding_id, user.username, now_utc())
    log.info("village=%s: finding %d acknowledged by %s", village_code, finding_id, user.username)
    flash(request, "Temuan sudah diakui atas nama Anda.")
    return _back(form)


@action
async def repoll(request: Request, user: Account, form: dict[str, str]) -> Response:
    store = store_of(request)
    code = request.path_params["code"]
    kec_code = await run_in_threadpool(store.village_kecamatan, code)
    if kec_code is None:
        raise HTTPException(404, "Desa tidak ditemukan")
    require_scope(user, kec_code)
    now = now_utc()
    when: datetime | None = await run_in_threadpool(store.request_poll, code, now)
    if when is None:
        flash(request, "Desa ini belum punya situs terdaftar, jadi tidak ada yang diperiksa.")
    elif when > now:
        flash(
            request,
            f"Situs desa meminta Sipande menunggu; pemeriksaan berikutnya {tanggal(when, True)}.",
        )
    else:
        log.info("village=%s: re-poll requested by %s", code, user.username)
        seconds = round(store.settings.dispatch_interval)
        flash(request, f"Desa akan diperiksa ulang dalam {seconds} detik ke depan.")
    return _back(form)


@action
async def thresholds(request: Request, user: Account, form: dict[str, str]) -> Response:
    if not user.whole_kabupaten:
        raise Denied("Ambang dan bobot berlaku untuk seluruh kabupaten: hanya Dinkominfo.")
    store = store_of(request)
    now = now_utc()
    if "reset" in form:
        await run_in_threadpool(store.reset_thresholds)
        message = "Ambang dan bobot kembali ke nilai berkas konfigurasi."
    else:
        values, problems = parse_form(form)
        if problems:
            context = await run_in_threadpool(admin_context, store, user, None)
            context["problems"] = problems
            context["submitted"] = form
            return _render_admin(request, context, status=400)
        await run_in_threadpool(store.save_thresholds, values, user.username, now)
        message = "Ambang dan bobot disimpan; status dan skor sudah dihitung ulang."
    # Statuses and scores follow at once, as after an edit of the districts file.
    await run_in_threadpool(store.score_all, now)
    log.info("thresholds changed by %s: %s", user.username, store.threshold_overrides())
    flash(request, message)
    return RedirectResponse(f"{ADMIN}#ambang", status_code=303)


def routes() -> list[Route]:
    return [
        Route(ADMIN, admin, methods=["GET"]),
        Route(ADMIN + "/kecamatan/{code}", admin_kecamatan, methods=["GET"]),
        Route(ADMIN + "/temuan/{id}/akui", acknowledge, methods=["POST"]),
        Route(ADMIN + "/desa/{code}/periksa", repoll, methods=["POST"]),
        Route(ADMIN + "/ambang", thresholds, methods=["POST"]),
    ]
