"""OpenSID theme markup (esensi, natra) per era: layout with the version markers of,
the visitor widget of article lists, single articles and the archive.
"""

from __future__ import annotations

import json
from html import escape

from .content import slugify
from .model import WIB, Article
from .render import SiteInfo, SiteView, angka, excerpt, tanggal_padded
from .unlisted import NOT_FOUND_ESENSI, NOT_FOUND_NATRA

HOME_ITEMS = 10
ARCHIVE_ITEMS = 20
MENU_LABELS = (
    ("pemerintah", "Pemerintahan"),
    ("pembangunan", "Pembangunan"),
    ("lapak", "Lapak"),
    ("pengaduan", "Pengaduan"),
)


def hits(site: SiteInfo, art: Article) -> int:
    """How often the article was read ("Dibaca N Kali"); deterministic."""
    return (art.id * 7919 + site.seed * 31) % 1800 + 12


def _sep(site: SiteInfo) -> str:
    """Natra prints "1.234" in the PHP themes and number_format's "1,234" in Blade."""
    return "," if site.spec.era == "blade" else "."


def asset(site: SiteInfo, file: str) -> str:
    """Theme asset url: /themes (<= 22.06), /vendor/themes (22.12-24.10), /theme_asset (Blade)."""
    spec, b = site.spec, site.base
    if spec.era == "blade":  # leaks the exact version
        return f"{b}/theme_asset/{spec.theme}?file={file}&v={spec.full_version}"
    folder = "themes" if spec.era == "2101" else "vendor/themes"
    return f"{b}/{folder}/{spec.theme}/assets/{file}?v={spec.label}.0"


def _head(site: SiteInfo, title: str) -> str:
    v, spec = site.village, site.spec
    name, kind, b = escape(v.name), v.sebutan, escape(site.base)
    lines = [
        "<!DOCTYPE html>",
        '<html lang="id">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f'<meta name="description" content="Website Resmi {kind} {name}">',
        f"<meta name='theme' content='{spec.theme.capitalize()}'>",
        "<meta name='theme:designer' content='OpenDesa'>",
        f"<meta name='theme:version' content='v{spec.full_version}'>",
        f'<link rel="alternate" type="application/rss+xml" title="Feed {kind} {name}" '
        f'href="{escape(site.site_url("/feed"))}">',
        f'<link rel="stylesheet" href="{asset(site, "css/style.css")}">',
        f'<link rel="shortcut icon" href="{b}/desa/logo/favicon.ico">',
        f"<script>var BASE_URL = '{b}/';</script>",
    ]
    if spec.era == "blade":  # removed in 2609; leaks current_version and kode_desa
        setting = {"current_version": spec.label, "sebutan_desa": kind.lower()}
        config = {
            "nama_desa": v.name,
            "kode_desa": v.code.replace(".", ""),
            "nama_kecamatan": v.kecamatan_name,
            "nama_kabupaten": "Purbalingga",
        }
        lines.append(
            f"<script>var setting = {json.dumps(setting)};\nvar config = {json.dumps(config)};"
            "</script>"
        )
        lines.append(f'<script src="{asset(site, "js/app.js")}"></script>')
    return "\n".join(lines) + "\n</head>\n"


def _digits(site: SiteInfo, number: int, width: int) -> str:
    """esensi PHP: each digit an image, the last one animated, zero-padded to the total's width."""
    text = str(number).rjust(width, "0")
    imgs = [
        f'<img src="{escape(site.base)}/assets/images/counter/'
        f'{"animasi/" if i == len(text) - 1 else ""}{d}.gif" alt="{d}">'
        for i, d in enumerate(text)
    ]
    return "".join(imgs)


def visitor_widget(site: SiteInfo) -> str:
    """ "Statistik Pengunjung" as each theme and era prints it."""
    n = site.visitors
    if site.spec.theme == "esensi":
        if site.spec.era == "blade":
            cells = [str(n.today), str(n.yesterday), str(n.total)]
        else:
            width = len(str(n.total))
            cells = [_digits(site, x, width) for x in (n.today, n.yesterday, n.total)]
        rows = "\n".join(
            f"<tr><td>{label}</td><td>{cell}</td></tr>"
            for label, cell in zip(("Hari ini", "Kemarin", "Jumlah pengunjung"), cells, strict=True)
        )
        return (
            '<div class="widget statistik-pengunjung">\n<div class="box box-primary box-solid">\n'
            '<div class="box-header"><h3 class="box-title">Statistik Pengunjung</h3></div>\n'
            f'<div class="box-body">\n<table class="counter">\n{rows}\n</table>\n</div>\n'
            "</div>\n</div>"
        )
    sep = _sep(site)
    pairs = (
        ("Hari ini", angka(n.today, sep)),
        ("Kemarin", angka(n.yesterday, sep)),
        ("Total Pengunjung", angka(n.total, sep)),
        ("Sistem Operasi", "Linux"),  # the viewer's own, not site data
        ("IP Address", "127.0.0.1"),
        ("Browser", "Lainnya"),
    )
    rows = "\n".join(
        f'<tr><td class="description">{label}</td><td class="dot">:</td>'
        f'<td class="case">{value}</td></tr>'
        for label, value in pairs
    )
    return (
        '<div class="archive_style_1">\n<div class="single_bottom_rightbar">\n'
        f'<h2 class="box-title">Statistik Pengunjung</h2>\n<table class="counter">\n{rows}\n'
        "</table>\n</div>\n</div>"
    )


def _footer(site: SiteInfo, view: SiteView) -> str:
    v, spec = site.village, site.spec
    year = view.now.astimezone(WIB).year
    who = f"&copy; 2016-{year} Pemerintah {v.sebutan} {escape(v.name)}."
    if spec.theme == "esensi":
        return (
            f'<footer class="footer">\n<p>{who} Powered by <a href="https://opensid.my.id" '
            f'target="_blank" rel="noopener">OpenSID {spec.full_version}</a> &middot; '
            f"Tema Esensi v{spec.label}</p>\n</footer>\n"
        )
    return (
        f'<footer class="footer_bottom">\n<p>{who} <a href="https://github.com/OpenSID/OpenSID" '
        f'target="_blank" rel="noopener">OpenSID {spec.full_version}</a> | '
        f"Natra v{spec.full_version}</p>\n</footer>\n"
    )


def layout(view: SiteView, title: str, main: str) -> str:
    """A whole themed page around `main`, with header menu, sidebar widget and footer."""
    site = view.info
    v, b = site.village, escape(site.base)
    name, kind = escape(v.name), v.sebutan
    menu = [f'<li><a href="{b}/">Beranda</a></li>']
    menu += [
        f'<li><a href="{escape(site.site_url("/" + page))}">{label}</a></li>'
        for page, label in MENU_LABELS
        if page in view.services.menu
    ]
    menu += [  # static pages sit in the top menu, by their dated url
        f'<li><a href="{escape(site.article_url(a))}">{escape(a.title)}</a></li>'
        for a in view.unlisted
        if not a.category
    ]
    menu.append(f'<li><a href="{escape(site.site_url("/arsip"))}">Arsip</a></li>')
    nav = "\n".join(menu)
    body_class = "bg-gray-100" if site.spec.theme == "esensi" else "natra"
    return (
        f'{_head(site, title)}<body class="{body_class}">\n<header class="header-desa">\n'
        f'<img class="logo-desa" src="{b}/desa/logo/logo.png" alt="Logo {kind} {name}">\n'
        f"<h2>Pemerintah {kind} {name}</h2>\n"
        f"<p>Kecamatan {escape(v.kecamatan_name)}, Kabupaten Purbalingga, "
        f"Provinsi Jawa Tengah</p>\n<nav><ul>\n{nav}\n</ul></nav>\n</header>\n"
        f'<main class="container">\n{main}\n<aside class="sidebar">\n{visitor_widget(site)}\n'
        f"</aside>\n</main>\n{_footer(site, view)}</body>\n</html>\n"
    )


def _card(site: SiteInfo, art: Article) -> str:
    url, title = escape(site.article_url(art)), escape(art.title)
    image = f"{escape(site.base)}/desa/upload/artikel/{escape(art.image)}"
    date = tanggal_padded(art.published_at)
    if site.spec.theme == "esensi":
        short = art.title if len(art.title) <= 80 else art.title[:80] + "..."
        extra = " mt-5" if site.spec.era == "blade" else ""
        return (
            f'<article class="artikel">\n<div class="max-w-full w-full bg-white shadow '
            f'rounded-lg border{extra}">\n<figure><img src="{image}" alt="{title}"></figure>\n'
            f'<div class="space-y-3">\n<a href="{url}" class="text-h5">{escape(short)}</a>\n'
            f'<ul><li><i class="fas fa-calendar-alt"></i> <span class="tanggal">{date}</span></li>'
            '<li><i class="fas fa-user"></i> Admin Desa</li>'
            f'<li><i class="fas fa-bookmark"></i> {escape(art.category)}</li></ul>\n'
            f'<p class="line-clamp-4">{escape(excerpt(art.body_html, 160))}</p>\n</div>\n'
            "</div>\n</article>"
        )
    loader = asset(site, "images/loading.gif")
    return (
        f'<li><div class="catgimg2_container2">\n<a href="{url}"><img class="yall_lazy" '
        f'src="{loader}" data-src="{image}" alt="{title}"></a>\n'
        f'<h5 class="catg_titile"><a href="{url}" title="Baca Selengkapnya">{title}</a></h5>\n'
        f'<div class="post_commentbox"><span class="meta_date">{date}</span> '
        f'<i class="fa fa-user"></i> Admin Desa <i class="fa fa-eye"></i> '
        f"{angka(hits(site, art), _sep(site))} Kali "
        f'<i class="fa fa-comments"></i> 0</div>\n'
        f"<p>{escape(excerpt(art.body_html, 160))}</p>\n</div></li>"
    )


def _pages(site: SiteInfo, page: int, count: int, href: str) -> str:
    links = "".join(
        f'<li class="page-item{" active" if n == page else ""}"><a class="page-link" '
        f'href="{escape(href.format(n=n))}">{n}</a></li>'
        for n in range(1, count + 1)
    )
    return f'<ul class="pagination">{links}</ul>\n<p>Halaman {page} dari {count}</p>'


def home_page(view: SiteView, page: int) -> str | None:
    """Home page N (None past the last page): newest articles, HOME_ITEMS per page."""
    site = view.info
    count = max(1, -(-len(view.articles) // HOME_ITEMS))
    if not 1 <= page <= count:
        return None
    chunk = view.articles[(page - 1) * HOME_ITEMS : page * HOME_ITEMS]
    cards = "\n".join(_card(site, art) for art in chunk)
    if site.spec.era == "blade":  # Laravel paginator
        href = site.base + "/?page={n}"
    else:
        href = site.site_url("/first/index/{n}")
    if not chunk:
        listing = '<p class="kosong">Belum ada artikel.</p>'
    elif site.spec.theme == "esensi":
        listing = cards
    else:
        listing = (
            '<div class="business_category_left">\n<ul class="fashion_catgnav">\n'
            f"{cards}\n</ul>\n</div>"
        )
    arsip = escape(site.site_url("/arsip"))
    main = (
        '<section class="artikel-terkini">\n'
        f'<h3>Artikel Terkini</h3> <a href="{arsip}">Indeks</a>\n'
        f"{listing}\n{_pages(site, page, count, href)}\n</section>"
    )
    v = site.village
    return layout(view, f"Website Resmi {v.sebutan} {v.name}", main)


def article_page(view: SiteView, art: Article) -> str:
    """One article; the body is served as stored, hostile or not."""
    site, v = view.info, view.info.village
    image = f"{escape(site.base)}/desa/upload/artikel/{escape(art.image)}"
    box = "content" if site.spec.theme == "esensi" else "single_page_content"
    crumbs = f'<li><a href="{escape(site.base)}/">Beranda</a></li>'
    if art.category:  # news names its category; a static page shows none
        kategori = escape(site.site_url(f"/artikel/kategori/{slugify(art.category)}"))
        crumbs += f'<li><a href="{kategori}">{escape(art.category)}</a></li>'
    main = (
        f'<nav class="breadcrumb"><ol>{crumbs}</ol></nav>\n'
        f'<article class="artikel-detail">\n<meta property="og:image" content="{image}">\n'
        f"<h1>{escape(art.title)}</h1>\n"
        f'<p class="meta"><span class="tanggal">{tanggal_padded(art.published_at)}</span> '
        f'<span class="kategori">{escape(art.category)}</span> oleh Admin Desa, '
        f"Dibaca {angka(hits(site, art), _sep(site))} Kali</p>\n"
        f'<img class="gambar" src="{image}" alt="">\n<div class="{box}">\n{art.body_html}\n</div>\n'
        "</article>"
    )
    return layout(view, f"{art.title} | Website Resmi {v.sebutan} {v.name}", main)


def archive_page(view: SiteView, page: int) -> str | None:
    """/arsip/N: server-rendered in the PHP eras, a JS DataTable shell in Blade."""
    site = view.info
    if site.spec.era == "blade":
        if page != 1:
            return None
        api = escape(site.base + "/internal_api/arsip")
        main = (
            '<section class="arsip">\n<h1>Arsip Artikel</h1>\n'
            f'<table id="tabel-arsip" class="table" data-url="{api}"><thead><tr><th>No</th>'
            "<th>Tanggal</th><th>Judul</th><th>Dibaca</th></tr></thead><tbody></tbody></table>\n"
            "</section>"
        )
        return layout(view, "Arsip Artikel", main)
    # Every enabled, published row: news and the static page alike (not the draft).
    static = [a for a in view.unlisted if not a.category]
    listed = sorted([*view.articles, *static], key=lambda a: a.published_at, reverse=True)
    count = max(1, -(-len(listed) // ARCHIVE_ITEMS))
    if not 1 <= page <= count:
        return None
    first = (page - 1) * ARCHIVE_ITEMS
    chunk = listed[first : first + ARCHIVE_ITEMS]
    if site.spec.theme == "esensi":
        items = "\n".join(
            f'<li class="py-5"><a class="text-h6" href="{escape(site.article_url(a))}">'
            f"{escape(a.title)}</a><p>Diterbitkan pada {tanggal_padded(a.published_at)}</p>"
            "<p>Oleh: Admin Desa</p></li>"
            for a in chunk
        )
        listing = f'<ol class="divide-y mb-5">\n{items}\n</ol>'
    else:
        items = "\n".join(
            f"<tr><td>{first + i + 1}</td><td>{tanggal_padded(a.published_at)}</td>"
            f'<td><a href="{escape(site.article_url(a))}">{escape(a.title)}</a></td>'
            f"<td>Admin Desa</td><td>{angka(hits(site, a), _sep(site))}</td></tr>"
            for i, a in enumerate(chunk)
        )
        listing = (
            '<div class="single_page_area"><table class="table table-striped">\n<thead><tr>'
            "<th>No</th><th>Tanggal Artikel</th><th>Judul Artikel</th><th>Penulis</th>"
            f"<th>Dibaca</th></tr></thead>\n<tbody>\n{items}\n</tbody>\n</table></div>"
        )
    paging = _pages(site, page, count, site.site_url("/first/arsip/{n}"))
    main = f'<section class="arsip">\n<h1>Arsip Artikel</h1>\n{listing}\n{paging}\n</section>'
    return layout(view, "Arsip Artikel", main)


def error_page(view: SiteView) -> str:
    """The archive past its last page on real 2410: the theme's partial fails on
    `count(false)` and PHP stops there, HTTP 500 after the frame's first half."""
    page = layout(view, "Arsip Artikel", '<section class="arsip">\n<h1>Arsip Artikel</h1>\n')
    return page[: page.index('<aside class="sidebar">')]


def not_found_page(view: SiteView) -> str:
    main = (
        '<section class="error-404">\n<h1>404</h1>\n'
        "<p>Halaman yang Anda cari tidak ditemukan atau telah dipindahkan.</p>\n"
        f'<p><a href="{escape(view.info.base)}/">Kembali ke Beranda</a></p>\n</section>'
    )
    return layout(view, "Halaman tidak ditemukan", main)


def siteman_page(site: SiteInfo) -> str:
    """The admin login page; its footer names the exact version whatever the theme."""
    return (
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        '<title>Masuk | OpenSID</title>\n</head>\n<body class="login">\n'
        '<form method="post" action="siteman/auth"><input name="username"> '
        '<input name="password" type="password"> <button>Masuk</button></form>\n'
        f'<footer><a href="https://opendesa.id">OpenSID {site.spec.full_version}</a></footer>\n'
        "</body>\n</html>\n"
    )


def soft_404_page(view: SiteView) -> str:
    """What a disabled draft's url answers, with HTTP 200 (a soft 404)."""
    body = NOT_FOUND_ESENSI if view.info.spec.theme == "esensi" else NOT_FOUND_NATRA
    return layout(view, "Halaman tidak ditemukan", body)
