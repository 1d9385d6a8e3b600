"""Renders what an OpenSID village site serves: home page, RSS feed, article and error pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape, unescape

from .content import tanggal
from .model import WIB, Article, SimVillage

_TAG = re.compile(r"<[^>]*>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class SiteInfo:
    """What every page of one site needs: the village, its OpenSID release and its base url."""

    village: SimVillage
    version: str  # "2410"
    base: str  # "http://127.0.0.1:40123" (no trailing slash)
    visitors_today: int
    visitors_total: int

    @property
    def label(self) -> str:
        """Release as OpenSID prints it in footers: "v24.10"."""
        return f"v{self.version[:2]}.{self.version[2:]}"

    @property
    def dotted(self) -> str:
        """Release as "24.10"."""
        return f"{self.version[:2]}.{self.version[2:]}"


def cdata(text: str) -> str:
    """Wrap text in CDATA, splitting any "]]>" it contains."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def excerpt(body_html: str, limit: int = EXCERPT_CHARS) -> str:
    """Plain text of an HTML body, cut at a word boundary near `limit` characters."""
    text = " ".join(unescape(_TAG.sub(" ", _SCRIPT.sub(" ", body_html))).split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def feed_xml(site: SiteInfo, items: list[Article], now: datetime) -> str:
    """RSS 2.0 the way OpenSID writes it (no XML declaration, dc/atom/sy namespaces)."""
    v, b = site.village, site.base
    entries = []
    for art in items:
        link = escape(b + art.path)
        image = escape(f"{b}/desa/upload/artikel/{art.image}")
        description = f'<img src="{image}"/> {escape(excerpt(art.body_html))} [...]'
        entries.append(
            "\t\t<item>\n"
            f"\t\t\t<title>{escape(art.title)}</title>\n"
            f"\t\t\t<link>{link}</link>\n"
            f"\t\t\t<pubDate>{format_datetime(art.published_at.astimezone(WIB))}</pubDate>\n"
            "\t\t\t<dc:creator>Admin Desa</dc:creator>\n"
            f"\t\t\t<category>{cdata(art.category)}</category>\n"
            f'\t\t\t<guid isPermaLink="true">{link}</guid>\n'
            f"\t\t\t<description>{cdata(description)}</description>\n"
            f"\t\t\t<content:encoded>{cdata(art.body_html)}</content:encoded>\n"
            "\t\t</item>\n"
        )
    place = f"{v.sebutan} {v.name} Kec. {v.kecamatan_name} Kab. Purbalingga Prov. Jawa Tengah."
    return (
        '<rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/">\n'
        "\t<channel>\n"
        f"\t\t<title>{escape(v.sebutan)} {escape(v.name)}</title>\n"
        f'\t\t<atom:link href="{escape(b)}/feed" rel="self" type="application/rss+xml" />\n'
        f"\t\t<link>{escape(b)}/</link>\n"
        f"\t\t<description>Situs Web {escape(place)}</description>\n"
        "\t\t<dc:language>id</dc:language>\n"
        f"\t\t<dc:rights>Copyright 2016-{now.astimezone(WIB).year} OpenDesa - OpenSID "
        f"{site.dotted}</dc:rights>\n"
        "\t\t<sy:updatePeriod>hourly</sy:updatePeriod>\n"
        "\t\t<sy:updateFrequency>1</sy:updateFrequency>\n"
        f"{''.join(entries)}"
        "\t</channel>\n"
        "</rss>\n"
    )


def angka(number: int) -> str:
    """Indonesian thousands separator: 12345 -> "12.345"."""
    return f"{number:,}".replace(",", ".")


def _layout(site: SiteInfo, title: str, main: str, now: datetime) -> str:
    v, b = site.village, escape(site.base)
    name, kind = escape(v.name), v.sebutan
    yesterday = max(1, site.visitors_today * 7 // 6)
    return f"""<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<meta name="description" content="Website Resmi {kind} {name}">
<link rel="alternate" type="application/rss+xml" title="Feed {kind} {name}" \
href="{b}/index.php/feed">
<link rel="stylesheet" href="{b}/themes/esensi/assets/css/style.css?v={site.dotted}.0">
<link rel="shortcut icon" href="{b}/desa/logo/favicon.ico">
</head>
<body>
<header class="header-desa">
<img class="logo-desa" src="{b}/desa/logo/logo.png" alt="Logo {kind} {name}">
<h2>Pemerintah {kind} {name}</h2>
<p>Kecamatan {escape(v.kecamatan_name)}, Kabupaten Purbalingga, Provinsi Jawa Tengah</p>
<nav><ul>
<li><a href="{b}/">Beranda</a></li>
<li><a href="{b}/index.php/first/artikel/0">Profil {kind}</a></li>
<li><a href="{b}/index.php/pemerintah">Pemerintahan</a></li>
<li><a href="{b}/index.php/data-wilayah">Data {kind}</a></li>
<li><a href="{b}/index.php/lapak">Lapak</a></li>
<li><a href="{b}/index.php/peta">Peta</a></li>
</ul></nav>
</header>
<main class="container">
{main}
<aside class="sidebar">
<div class="widget statistik-pengunjung">
<h3>Statistik Pengunjung</h3>
<table>
<tr><td>Hari ini</td><td>{angka(site.visitors_today)}</td></tr>
<tr><td>Kemarin</td><td>{angka(yesterday)}</td></tr>
<tr><td>Total</td><td>{angka(site.visitors_total)}</td></tr>
</table>
</div>
</aside>
</main>
<footer class="footer">
<p>&copy; 2016-{now.astimezone(WIB).year} Pemerintah {kind} {name}.
Powered by <a href="https://opendesa.id" target="_blank" rel="noopener">OpenSID</a> \
{site.label}</p>
</footer>
</body>
</html>
"""


def home_page(site: SiteInfo, newest: list[Article], now: datetime) -> str:
    """The home page (beranda) listing the newest articles."""
    v = site.village
    rows = []
    for art in newest:
        rows.append(
            '<article class="artikel">\n'
            f'<h3><a href="{escape(site.base + art.path)}">{escape(art.title)}</a></h3>\n'
            f'<p class="meta"><span class="tanggal">{tanggal(art.published_at)}</span> '
            f'<span class="kategori">{escape(art.category)}</span></p>\n'
            f"<p>{escape(excerpt(art.body_html, 160))} ...</p>\n"
            "</article>"
        )
    listing = "\n".join(rows) or '<p class="kosong">Belum ada artikel.</p>'
    main = f'<section class="artikel-terkini">\n<h1>Berita Terkini</h1>\n{listing}\n</section>'
    return _layout(site, f"Website Resmi {v.sebutan} {v.name}", main, now)


def article_page(site: SiteInfo, art: Article, now: datetime) -> str:
    """One article page; the body is served as stored, hostile or not."""
    v = site.village
    main = (
        '<article class="artikel-detail">\n'
        f"<h1>{escape(art.title)}</h1>\n"
        f'<p class="meta"><span class="tanggal">{tanggal(art.published_at)}</span> '
        f'<span class="kategori">{escape(art.category)}</span> oleh Admin Desa</p>\n'
        f'<img class="gambar" src="{escape(site.base)}/desa/upload/artikel/{art.image}" alt="">\n'
        f'<div class="isi-artikel">\n{art.body_html}\n</div>\n'
        "</article>"
    )
    return _layout(site, f"{art.title} | Website Resmi {v.sebutan} {v.name}", main, now)


def not_found_page(site: SiteInfo, now: datetime) -> str:
    """OpenSID-style 404 page."""
    main = (
        '<section class="error-404">\n<h1>404</h1>\n'
        "<p>Halaman yang Anda cari tidak ditemukan atau telah dipindahkan.</p>\n"
        f'<p><a href="{escape(site.base)}/">Kembali ke Beranda</a></p>\n</section>'
    )
    return _layout(site, "Halaman tidak ditemukan", main, now)


def error_500_page() -> str:
    """The bare page a broken OpenSID install answers with."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<title>Database Error</title>\n</head>\n<body>\n<div id="container">\n'
        "<h1>A Database Error Occurred</h1>\n"
        "<p>Unable to connect to your database server using the provided settings.</p>\n"
        "<p>Filename: core/Loader.php</p>\n<p>Line Number: 346</p>\n</div>\n</body>\n</html>\n"
    )


def simple_page(status_line: str) -> str:
    """A tiny web-server-level page (405, 400...)."""
    text = escape(status_line)
    return f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>\n"


STYLESHEET = (
    "body{font-family:sans-serif;margin:0;color:#222}\n"
    ".header-desa{background:#0b6e4f;color:#fff;padding:1rem}\n"
    ".container{display:flex;gap:1rem;padding:1rem}\n"
    ".statistik-pengunjung td{padding:.2rem .5rem}\n"
)
ROBOTS = "User-agent: *\nDisallow: /index.php/siteman\nAllow: /\n"
