"""OpenSID's public JSON: `/ppid` on every era, `/internal_api/*` (JSON:API,
League Fractal style) on the Blade era.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlencode

from .content import category_id, slugify
from .model import WIB, Article
from .opensid_pages import net_price
from .opensid_theme import hits
from .render import Page, SiteView, json_page, tanggal_padded
from .services import Document

MAX_PAGE_SIZE = 30
_FOTO = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="  # noqa: E501
Row = tuple[int, dict[str, object]]


def _dmy(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S")


def _ymd(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")


def _doc(view: SiteView, doc: Document, aksi: str) -> dict[str, object]:
    return {
        "aksi": aksi,
        "id": str(doc.id),
        "kode_desa": view.info.village.code.replace(".", ""),
        "dokumen": view.info.site_url(f"/dokumen_web/unduh_berkas/{doc.id}"),
        "nama": doc.nama,
        "tgl_upload": _ymd(doc.tgl_upload),
        "updated_at": _ymd(doc.tgl_upload),
        "enabled": "1",
        "kategori": doc.kategori,
        "tahun": str(doc.tahun),
    }


def ppid(view: SiteView, query: str) -> Page:
    """GET /ppid[?tgl_dari=dd-mm-YYYY]: every public document, or those changed since a day."""
    since = parse_qs(query).get("tgl_dari", [""])[0]
    docs = list(view.services.documents)
    aksi = "0"
    if since:
        try:
            start = datetime.strptime(since, "%d-%m-%Y").replace(tzinfo=WIB)
        except ValueError:
            return json_page({"status": "fail", "message": "Format tgl_dari salah"})
        docs, aksi = [d for d in docs if d.tgl_upload >= start], "1"
    data = {
        "ppid": [_doc(view, d, aksi) for d in docs],
        "tanggal": _ymd(view.now),
        "pengiriman": "perubahan" if since else "semua",
        "tgl_dari": since or None,
        "total data": len(docs),
    }
    return json_page({"status": "success", "data": data})


def _articles(view: SiteView) -> list[Row]:
    """Newest first; the two oldest rows are static pages (tipe "statis"), not news."""
    site = view.info
    rows: list[Row] = []
    for art in view.articles:
        local = art.published_at.astimezone(WIB)
        padded = f"/artikel/{local.year}/{local.month:02d}/{local.day:02d}/{art.slug}"
        rows.append((art.id, _article(view, art) | {"url_slug": site.site_url(padded)}))
    oldest = view.articles[-1].published_at if view.articles else view.now
    for number, title in ((1, "Profil Desa"), (2, "Visi dan Misi")):
        attrs = {"judul": title, "slug": slugify(title), "tipe": "statis", "id_kategori": None}
        rows.append((number, attrs | {"tgl_upload": _dmy(oldest), "hit": 0, "enabled": 1}))
    return rows


def _article(view: SiteView, art: Article) -> dict[str, object]:
    cid = category_id(art.category)
    return {
        "judul": art.title,
        "slug": art.slug,
        "isi": art.body_html,
        "gambar": art.image,
        "tgl_upload": _dmy(art.published_at),
        "tgl_upload_local": tanggal_padded(art.published_at),
        "hit": hits(view.info, art),
        "tipe": "dinamis",
        "id_kategori": cid,
        "headline": 0,
        "enabled": 1,
        "author": {"id": 1, "nama": "Administrator"},
        "category": {"id": cid, "kategori": art.category, "slug": slugify(art.category)},
        "comments": [],
    }


def _products(view: SiteView) -> list[Row]:
    return [
        (
            p.id,
            {
                "nama": p.nama,
                "harga": p.harga,
                "harga_diskon": net_price(p.harga, p.potongan),
                "satuan": p.satuan,
                "tipe_potongan": 1,
                "potongan": p.potongan,
                "deskripsi": f"{p.kategori} produksi warga.",
                "foto": [_FOTO],
                "kategori": {"kategori": p.kategori},
                "pelapak": {"nama": "Admin"},
            },
        )
        for p in view.services.products
    ]


def _projects(view: SiteView) -> list[Row]:
    return [
        (
            p.id,
            {
                "judul": p.judul,
                "slug": p.slug,
                "tahun_anggaran": p.tahun,
                "anggaran": p.anggaran,
                "lokasi": view.info.village.name,
                "persentase": f"{p.persentase}%",
                "created_at": _ymd(p.created_at),
                "pembangunan_dokumentasi": [],
            },
        )
        for p in view.services.projects
    ]


def _complaints(view: SiteView) -> list[Row]:
    return [
        (
            c.id,
            {
                "judul": c.judul,
                "isi": "Mohon ditindaklanjuti. Terima kasih.",
                "status": c.status,
                "created_at": _ymd(c.created_at),
                "child_count": 0,
                "child": [],
            },
        )
        for c in view.services.complaints
    ]


def _officials(view: SiteView) -> list[Row]:
    today = view.now.astimezone(WIB).date().isoformat()
    return [
        (
            o.id,
            {
                "nama": o.nama,
                "nama_jabatan": o.jabatan,
                "pamong_niap": "-",
                "kehadiran": int(o.kehadiran),
                "status_kehadiran": o.status,
                "tanggal": today,
                "foto": f"{view.info.base}/storage-desa/kuser.png?signature=0",
            },
        )
        for o in view.services.officials
    ]


def _documents(view: SiteView) -> list[Row]:
    return [(d.id, _doc(view, d, "0")) for d in view.services.documents]


# endpoint -> (JSON:API type, gating menu entry or "", rows)
ENDPOINTS: dict[str, tuple[str, str, Callable[[SiteView], list[Row]]]] = {
    "arsip": ("artikel", "", _articles),
    "lapak/produk": ("produk", "lapak", _products),
    "pembangunan": ("pembangunan", "pembangunan", _projects),
    "pengaduan": ("pengaduan", "pengaduan", _complaints),
    "pemerintah": ("pemerintah", "pemerintah", _officials),
    "ppid": ("dokumen", "", _documents),
    "informasi-publik": ("dokumen", "", _documents),
}


def _int(params: dict[str, list[str]], key: str, default: int) -> int:
    value = params.get(key, [""])[0]
    return int(value) if value.isdigit() and int(value) > 0 else default


def _sorted(rows: list[Row], sort: str) -> list[Row]:
    field = sort.lstrip("-")
    if field not in ("id", "tgl_upload", "hit", "created_at"):
        return rows
    if field == "id":
        return sorted(rows, key=lambda r: r[0], reverse=sort.startswith("-"))

    def key(row: Row) -> str:
        value = str(row[1].get(field, ""))
        if field == "tgl_upload":  # d-m-Y H:i:s
            return value[6:10] + value[3:5] + value[0:2] + value[10:]
        return value.rjust(12, "0")

    return sorted(rows, key=key, reverse=sort.startswith("-"))


def internal_api(view: SiteView, endpoint: str, query: str) -> Page | None:
    """/internal_api/<endpoint> (Blade era only); None (404) for unknown or unlisted modules.

    A module left out of the web menu answers 404 here as on its page, so a village either
    shows a service or does not (a simplification: real sites gate only the page).
    """
    if view.info.spec.era != "blade" or endpoint not in ENDPOINTS:
        return None
    kind, gate, source = ENDPOINTS[endpoint]
    if gate and gate not in view.services.menu:
        return None
    params = parse_qs(query)
    rows = source(view)
    if search := params.get("filter[search]", [""])[0].lower():
        rows = [r for r in rows if search in str(r[1].get("judul", r[1].get("nama", ""))).lower()]
    if sort := params.get("sort", [""])[0]:
        rows = _sorted(rows, sort)
    size = min(MAX_PAGE_SIZE, _int(params, "page[size]", MAX_PAGE_SIZE))
    number = _int(params, "page[number]", 1)
    pages = max(1, -(-len(rows) // size))
    chunk = rows[(number - 1) * size : number * size]
    url = f"{view.info.base}/internal_api/{endpoint}"

    def link(n: int) -> str:
        return f"{url}?{urlencode({'page[number]': n, 'page[size]': size})}"

    links = {"self": link(number), "first": link(1), "last": link(pages)}
    if number < pages:
        links["next"] = link(number + 1)
    if number > 1:
        links["prev"] = link(number - 1)
    pagination = {
        "total": len(rows),
        "count": len(chunk),
        "per_page": size,
        "current_page": number,
        "total_pages": pages,
    }
    data = [
        {"type": kind, "id": str(rid), "attributes": {"id": rid, **attrs}} for rid, attrs in chunk
    ]
    return json_page({"data": data, "meta": {"pagination": pagination}, "links": links})
