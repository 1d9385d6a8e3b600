""" "Mulai": the first morning of a deployment, from the admin view (Dinkominfo only).

Download a template of every village, upload it filled in, read the dry-run report (the one
`sipande import-sites` prints), then apply it: the districts file is edited as import-sites
edits it (comments and order kept, validated, written atomically, nothing if it changed on
disk meanwhile), the store follows at once and the villages given an address are polled at
the next dispatch. Proposals of `sipande discover` (its review file beside the config) go
through the same dry run; discover itself can be started for one kecamatan in the background.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from aggregator.access.auth import Account, csrf_matches
from aggregator.errors import ConfigError
from aggregator.onboarding.importer import ImportPlan, format_plan, plan_import
from aggregator.onboarding.tables import SiteRow, TableError, read_site_list
from aggregator.onboarding.template import MAX_UPLOAD_BYTES, read_upload, template_xlsx
from aggregator.onboarding.yaml_edit import read_text, update_config_file
from aggregator.settings import DistrictConfig, parse_config
from aggregator.web.auth import STALE_FORM, Denied, action, current_user, flash, login_required
from aggregator.web.common import now_utc, render, store_of
from aggregator.web.discovery import (
    CONFIDENCE_LABELS,
    Discovery,
    proposals_from,
    review_path,
)
from aggregator.web.exports import XLSX_TYPE
from aggregator.web.upload import read_multipart

log = logging.getLogger(__name__)

PATH = "/admin/mulai"
PENDING_SECONDS = 3600  # a dry run can be applied within the hour
PENDING_KEPT = 8


@dataclass
class Pending:
    """A dry run waiting to be applied: the plan and the config text it was made against."""

    user: str
    plan: ImportPlan
    text: str
    at: float


@dataclass
class MulaiState:
    pending: dict[str, Pending] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    discovery: Discovery = field(default_factory=Discovery)

    def keep(self, user: str, plan: ImportPlan, text: str) -> str:
        now = time.monotonic()
        with self.lock:
            for token, p in list(self.pending.items()):
                if now - p.at > PENDING_SECONDS:
                    del self.pending[token]
            while len(self.pending) >= PENDING_KEPT:
                del self.pending[next(iter(self.pending))]
            token = secrets.token_urlsafe(16)
            self.pending[token] = Pending(user, plan, text, now)
            return token

    def take(self, token: str, user: str) -> Pending | None:
        with self.lock:
            p = self.pending.get(token)
            if p is None or p.user != user or time.monotonic() - p.at > PENDING_SECONDS:
                return None
            return self.pending.pop(token)


_STATE_LOCK = threading.Lock()


def state_of(request: Request) -> MulaiState:
    with _STATE_LOCK:
        state = getattr(request.app.state, "mulai", None)
        if not isinstance(state, MulaiState):
            state = request.app.state.mulai = MulaiState()
        return state


def config_path(request: Request) -> Path | None:
    path = getattr(request.app.state, "config_path", None)
    return Path(path) if path else None


def _dinkominfo(user: Account) -> None:
    if not user.whole_kabupaten:
        raise Denied("Alamat situs desa diisi untuk seluruh kabupaten: hanya Dinkominfo.")


def _load(path: Path) -> tuple[str, DistrictConfig]:
    text = read_text(path)
    return text, parse_config(text, str(path))


def _context(request: Request, user: Account, **extra: Any) -> dict[str, Any]:
    path = config_path(request)
    villages = store_of(request).list_villages()
    without = [v for v in villages if not v["url"]]
    review = review_path(path) if path else None
    context: dict[str, Any] = {
        "user": user,
        "config_path": path,
        "villages": len(villages),
        "without": len(without),
        "review": review if review and review.exists() else None,
        "proposals": proposals_from(review) if review and review.exists() else [],
        "confidence_labels": CONFIDENCE_LABELS,
        "discovery": state_of(request).discovery,
        "kecamatan": store_of(request).kecamatan_names(),
        "plan": None,
        "error": None,
    }
    context.update(extra)
    return context


def _page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return render(request, "mulai.html", context, status=status)


@login_required
async def mulai(request: Request, user: Account) -> Response:
    _dinkominfo(user)
    return _page(request, await run_in_threadpool(_context, request, user))


@login_required
async def template(request: Request, user: Account) -> Response:
    _dinkominfo(user)
    path = config_path(request)
    if path is None:
        raise HTTPException(404, "Sipande berjalan tanpa berkas konfigurasi")
    try:
        _, config = await run_in_threadpool(_load, path)
    except (OSError, ConfigError) as e:
        raise HTTPException(404, f"Berkas konfigurasi tidak bisa dibaca: {e}") from e
    body = await run_in_threadpool(template_xlsx, config)
    name = f"sipande-templat-situs-{config.kabupaten_code.replace('.', '')}.xlsx"
    return Response(
        body,
        media_type=XLSX_TYPE,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _dry_run(request: Request, user: Account, rows: list[SiteRow], source: str) -> dict[str, Any]:
    path = config_path(request)
    if path is None:
        return _context(request, user, error="Sipande berjalan tanpa berkas konfigurasi.")
    try:
        text, config = _load(path)
    except (OSError, ConfigError) as e:
        return _context(request, user, error=f"Berkas konfigurasi tidak bisa dibaca: {e}")
    plan = plan_import(config, rows, source)
    token = state_of(request).keep(user.username, plan, text)
    return _context(request, user, plan=plan, report=format_plan(plan), token=token)


async def upload(request: Request) -> Response:
    """The filled template (multipart, so not through `action`: same login, CSRF, role)."""
    user = current_user(request)
    if user is None:
        return RedirectResponse("/masuk?next=" + PATH, status_code=303)
    _dinkominfo(user)
    try:
        parts = await read_multipart(request, MAX_UPLOAD_BYTES + 64 * 1024)
    except HTTPException as e:
        if e.status_code != 413:
            raise
        error = f"Berkas terlalu besar (paling besar {MAX_UPLOAD_BYTES // 1024} kB)."
        context = await run_in_threadpool(_context, request, user, error=error)
        return _page(request, context, 413)
    csrf = parts.get("csrf")
    if csrf is None or not csrf_matches(request.session.get("csrf"), csrf.data.decode("latin-1")):
        log.warning("user=%s: template upload refused: CSRF token missing or wrong", user.username)
        raise Denied(STALE_FORM)
    file = parts.get("berkas")
    if file is None or not file.filename or not file.data:
        context = await run_in_threadpool(_context, request, user, error="Pilih berkas dulu.")
        return _page(request, context, 400)
    filename = Path(file.filename.replace("\\", "/")).name[:100]
    try:
        rows = await run_in_threadpool(read_upload, file.data, filename)
    except TableError as e:
        log.info("user=%s: upload %r refused: %s", user.username, filename, e)
        error = f"{filename}: {e}"
        return _page(request, await run_in_threadpool(_context, request, user, error=error), 400)
    source = f"Unggahan {filename}"
    context = await run_in_threadpool(_dry_run, request, user, rows, source)
    return _page(request, context)


@action
async def proposals(request: Request, user: Account, form: dict[str, str]) -> Response:
    """The review file of `sipande discover`, from the chosen confidence up, as a dry run."""
    _dinkominfo(user)
    path = config_path(request)
    review = review_path(path) if path else None
    if review is None or not review.exists():
        flash(request, "Belum ada berkas usulan (review.csv).")
        return RedirectResponse(PATH, status_code=303)
    levels = {"high": ("high",), "medium": ("high", "medium")}.get(
        form.get("keyakinan", ""), ("high", "medium", "low")
    )
    wanted = {
        (p["code"], p["candidate"]) for p in proposals_from(review) if p["confidence"] in levels
    }
    try:
        rows = await run_in_threadpool(read_site_list, review)
    except TableError as e:
        flash(request, f"Berkas usulan tidak bisa dibaca: {e}")
        return RedirectResponse(PATH, status_code=303)
    chosen = [r for r in rows if (r.code, r.url) in wanted]
    source = f"Usulan sipande discover ({review.name})"
    return _page(request, await run_in_threadpool(_dry_run, request, user, chosen, source))


def _apply(request: Request, user: Account, pending: Pending) -> str:
    """Write the plan's urls and make the store follow; the message for the officer."""
    path = config_path(request)
    urls = pending.plan.urls
    if path is None:
        return "Sipande berjalan tanpa berkas konfigurasi: tidak ada yang ditulis."
    if not urls:
        return "Tidak ada alamat yang berubah: konfigurasi tidak diubah."
    store = store_of(request)
    try:
        before = parse_config(pending.text, str(path))
        config = update_config_file(path, urls, original=pending.text, before=before)
    except ConfigError as e:
        return "Tidak ditulis: " + "; ".join(e.problems)
    except OSError as e:
        return f"Tidak ditulis: {path}: {e.strerror or e}"
    now = now_utc()
    store.sync_config(config, now)
    for code in urls:
        store.request_poll(code, now)
    log.info("%s: %d village urls set by %s from %s", path, len(urls), user.username,
             pending.plan.source)  # fmt: skip
    return (
        f"Konfigurasi ditulis: {len(urls)} alamat situs desa diisi (komentar dan urutan berkas "
        "tetap). Desa tersebut segera diperiksa."
    )


@action
async def apply(request: Request, user: Account, form: dict[str, str]) -> Response:
    _dinkominfo(user)
    pending = state_of(request).take(form.get("token", ""), user.username)
    if pending is None:
        flash(request, "Laporan uji ini sudah diterapkan atau kedaluwarsa: unggah berkas lagi.")
        return RedirectResponse(PATH, status_code=303)
    message = await run_in_threadpool(_locked_apply, request, user, pending)
    flash(request, message)
    return RedirectResponse(PATH + "#hasil", status_code=303)


_WRITE_LOCK = threading.Lock()


def _locked_apply(request: Request, user: Account, pending: Pending) -> str:
    with _WRITE_LOCK:
        return _apply(request, user, pending)


@action
async def discover(request: Request, user: Account, form: dict[str, str]) -> Response:
    """Start `discover` for one kecamatan in the background (one run at a time)."""
    _dinkominfo(user)
    path = config_path(request)
    code = form.get("kecamatan", "")
    if path is None or code not in dict(store_of(request).kecamatan_names()):
        flash(request, "Pilih kecamatan yang ada di konfigurasi.")
        return RedirectResponse(PATH, status_code=303)
    started = state_of(request).discovery.start(
        path, code, store_of(request).settings, asyncio.get_running_loop()
    )
    flash(
        request,
        "Penelusuran dimulai; muat ulang halaman ini untuk melihat usulannya."
        if started
        else "Penelusuran lain masih berjalan; tunggu sampai selesai.",
    )
    return RedirectResponse(PATH + "#usulan", status_code=303)


def routes() -> list[Route]:
    return [
        Route(PATH, mulai, methods=["GET"]),
        Route(PATH + "/templat.xlsx", template, methods=["GET"]),
        Route(PATH + "/unggah", upload, methods=["POST"]),
        Route(PATH + "/usulan", proposals, methods=["POST"]),
        Route(PATH + "/terapkan", apply, methods=["POST"]),
        Route(PATH + "/telusuri", discover, methods=["POST"]),
    ]
