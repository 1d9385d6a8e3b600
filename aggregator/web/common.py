"""Helpers shared by the page modules: rendering, query parameters, links and exports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from aggregator.store import Store
from aggregator.web.exports import FORMATS, Table, export_response

PHASE_LABELS = {
    "dns": "DNS (nama domain)",
    "blocked": "Diblokir (alamat privat)",
    "connect": "Koneksi",
    "tls": "TLS/sertifikat",
    "http": "HTTP",
    "parse": "Membaca isi",
    "offline": "Sipande luring",
}
FINDING_LABELS = {
    "judi_online": "Judi online",
    "judi_online_post": "Judi online di isi berita",
    "defacement": "Tampilan diubah (defacement)",
    "hijack_redirect": "Dialihkan ke situs lain",
    "cloaking": "Isi berbeda untuk mesin pencari (cloaking)",
    "comment_spam": "Spam komentar",
}


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def now_utc() -> datetime:
    return datetime.now(UTC)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context.setdefault("title", request.app.state.title)
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def int_arg(request: Request, name: str, default: int, *, lo: int, hi: int) -> int:
    """A whole-number query parameter clamped to [lo, hi]; junk means the default (pages
    are forgiving, the JSON API answers 400 instead)."""
    raw = request.query_params.get(name, "")
    try:
        return max(lo, min(hi, int(raw)))
    except ValueError:
        return default


# The periods a history chart offers (`?periode=`): the last 90 days, or the year that a
# first poll reconstructs from the news archives.
PERIODS = {"90": (90, "90 hari"), "365": (365, "1 tahun")}


def period_arg(request: Request) -> int:
    """The days of history a page shows: `?periode=365` for a year, else 90."""
    return PERIODS.get(request.query_params.get("periode", ""), PERIODS["90"])[0]


def text_arg(request: Request, name: str, max_len: int = 200) -> str:
    return (request.query_params.get(name) or "").strip()[:max_len]


def with_query(request: Request, anchor: str = "", **changes: object) -> str:
    """This page's path and query with some parameters changed (None or "" removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def export_path(request: Request, path: str, keep: tuple[str, ...] = ()) -> str:
    """An export url carrying the page's filters (never its paging)."""
    params = {k: v for k, v in request.query_params.items() if k in keep and v}
    return path + (f"?{urlencode(params)}" if params else "")


def safe_url(value: object) -> str:
    """A village-supplied link only if it is http(s); anything else (javascript:, data:)
    becomes an empty string, so templates drop the link."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return ""
    return value.strip() if scheme in ("http", "https") else ""


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise HTTPException(404, "Format ekspor tidak dikenal (pilih csv atau xlsx)")
    return fmt


def download(table: Table, fmt: str, stem: str, now: datetime) -> Response:
    """`stem` is ASCII (codes and fixed words); the file name also carries the date."""
    return export_response(table, check_format(fmt), f"sipande-{stem}-{now:%Y%m%d}")
