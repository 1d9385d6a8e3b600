"""OpenSID's menu-gated service pages (lapak, pembangunan, pengaduan, pemerintah):
server-rendered cards in the PHP eras, empty shells filled from /internal_api in Blade.
"""

from __future__ import annotations

from html import escape

from .opensid_theme import layout
from .render import SiteView, angka, tanggal_padded
from .services import STATUS_PENGADUAN, Services

API_OF = {
    "lapak": "lapak/produk",
    "pembangunan": "pembangunan",
    "pengaduan": "pengaduan",
    "pemerintah": "pemerintah",
}
TITLES = {
    "lapak": "Lapak",
    "pembangunan": "Pembangunan",
    "pengaduan": "Pengaduan",
    "pemerintah": "Pemerintah Desa",
}


def rupiah(amount: int) -> str:
    return "Rp " + angka(amount)


def net_price(harga: int, potongan: int) -> int:
    return harga - harga * potongan // 100


def _lapak(view: SiteView, data: Services) -> str:
    b = escape(view.info.base)
    cards = []
    for p in data.products:
        old = f"<s>{rupiah(p.harga)}</s> " if p.potongan else ""
        cards.append(
            '<div class="this-product">\n'
            f'<div class="owl-carousel"><img src="{b}/desa/upload/produk/produk_{p.id}.jpg" '
            f'alt="{escape(p.nama)}"></div>\n<div class="detail">\n'
            f'<span class="font-heading">{escape(p.nama)}</span>\n'
            f'{old}<span class="text-lg">{rupiah(net_price(p.harga, p.potongan))} / '
            f"{p.satuan}</span>\n<p>{escape(p.kategori)} produksi warga.</p>\n"
            "<p>Pelapak: Admin</p>\n"
            '<a href="https://api.whatsapp.com/send?phone=620000000000">Beli Sekarang</a>\n'
            '<button data-lat="-7.3883" data-lng="109.3634" data-zoom="15">Lokasi</button>\n'
            "</div>\n</div>"
        )
    return "\n".join(cards) or '<p class="kosong">Belum ada produk.</p>'


def _pembangunan(view: SiteView, data: Services) -> str:
    site = view.info
    cards = []
    for p in data.projects:
        link = escape(site.site_url(f"/pembangunan/{p.slug}"))
        cards.append(
            '<div class="pembangunan">\n'
            f'<img src="{escape(site.base)}/desa/upload/galeri/pembangunan_{p.id}.jpg" alt="">\n'
            f'<h3 class="text-h5"><a href="{link}">{escape(p.judul)}</a></h3>\n'
            f"<p>Tahun Anggaran: {p.tahun}</p>\n<p>Anggaran: {rupiah(p.anggaran)}</p>\n"
            f"<p>Lokasi: {escape(site.village.name)}</p>\n<p>Progres: {p.persentase}%</p>\n"
            "</div>"
        )
    return "\n".join(cards) or '<p class="kosong">Belum ada data pembangunan.</p>'


def _pengaduan(data: Services) -> str:
    rows = []
    for c in data.complaints:
        rows.append(
            '<div class="pengaduan">\n'
            f'<h4 class="judul">{escape(c.judul)}</h4>\n'
            f'<p class="meta">{tanggal_padded(c.created_at)} oleh Warga '
            f'<span class="status status-{c.status}">{STATUS_PENGADUAN[c.status]}</span></p>\n'
            "<p>Mohon ditindaklanjuti. Terima kasih.</p>\n</div>"
        )
    return "\n".join(rows) or '<p class="kosong">Belum ada pengaduan.</p>'


def _pemerintah(view: SiteView, data: Services) -> str:
    b = escape(view.info.base)
    cards = []
    for o in data.officials:
        badge = ""
        if o.kehadiran:  # only officials who use the attendance app get a badge
            tone = "success" if o.status == "Hadir" else "danger"
            badge = f'<span class="badge badge-{tone}">{o.status}</span>\n'
        cards.append(
            '<div class="aparatur">\n'
            f'<img src="{b}/assets/images/pengguna/kuser.png" alt="">\n'
            f'<h5 class="nama">{escape(o.nama)}</h5>\n<p class="jabatan">{escape(o.jabatan)}</p>\n'
            f"<p>NIP: -</p>\n{badge}</div>"
        )
    return "\n".join(cards)


def theme_lacks_views(view: SiteView) -> bool:
    """Real 2410 with its bundled esensi (v2402) answers 500 on lapak, pemerintah,
    pembangunan and pengaduan, content or not: the theme has no view for the paths 2410's
    controllers pass (tests/fixtures/opensid_real/README.md, question 5)."""
    spec = view.info.spec
    return spec.theme == "esensi" and spec.version == "2410"


def missing_view_page(view: SiteView, name: str) -> str:
    """CodeIgniter's error page as 2410 shows it for a missing view (HTTP 500)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="UTF-8"><title>Error</title>'
        '</head>\n<body>\n<div class="container"><div class="error-page">\n'
        '<h2 class="headline text-danger">500</h2>\n<div class="error-content">\n'
        "<h3>An Error Was Encountered</h3>\n"
        f"<p>Unable to load the requested file: {escape(name)}/index.php</p>\n"
        f"Versi OpenSID {escape(view.info.spec.full_version)}.\n"
        "</div></div></div>\n</body>\n</html>\n"
    )


def service_page(view: SiteView, name: str) -> str | None:
    """The page of a gated service, or None (404) when it is not in the web menu."""
    data = view.services
    if name not in data.menu:
        return None
    if view.info.spec.era == "blade":  # rendered client-side from /internal_api
        api = escape(f"{view.info.base}/internal_api/{API_OF[name]}")
        body = f'<div id="{name}-list" data-url="{api}"><p class="loading">Memuat...</p></div>'
    elif name == "lapak":
        body = _lapak(view, data)
    elif name == "pembangunan":
        body = _pembangunan(view, data)
    elif name == "pengaduan":
        body = _pengaduan(data)
    else:
        body = _pemerintah(view, data)
    main = f'<section class="{name}">\n<h1>{TITLES[name]}</h1>\n{body}\n</section>'
    return layout(view, f"{TITLES[name]} {view.info.village.name}", main)
