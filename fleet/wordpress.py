"""What a WordPress village site renders (docs/design.md): home page with its fingerprints, single
posts and pages, the RSS feed at /feed/, and REST API objects (posts, pages, categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from .content import category_id, slugify, tanggal
from .model import WIB, Article
from .render import SiteInfo, SiteView, cdata, excerpt

FEED_ITEMS = 10  # Settings > Reading "posts_per_rss"
HOME_ITEMS = 10
THEME_VERSIONS = {"newsup": "5.0.8", "colormag": "3.1.9", "astra": "4.6.8"}
UNCATEGORIZED = (1, "Tak Berkategori")
STATIC_PAGES = ("Profil Desa", "Visi dan Misi", "Struktur Organisasi", "Kontak")
PAGE_ID_BASE = 5000


@dataclass(frozen=True)
class StaticPage:
    id: int
    title: str
    slug: str
    published_at: datetime
    body_html: str


def texturize(text: str) -> str:
    """wptexturize-like: curly quotes as numeric entities, `&` as `&#038;`, markup escaped."""
    out, opening = [], True
    for ch in text:
        if ch == '"':
            out.append("&#8220;" if opening else "&#8221;")
            opening = not opening
        elif ch == "'":
            out.append("&#8217;")
        else:
            out.append({"&": "&#038;", "<": "&lt;", ">": "&gt;"}.get(ch, ch))
    return "".join(out)


def modified_at(art: Article, now: datetime) -> datetime:
    """When the post was last edited: minutes after publishing, or days for every 5th post."""
    later = timedelta(days=art.id % 9 + 1) if art.id % 5 == 0 else timedelta(minutes=art.id % 50)
    return max(art.published_at, min(art.published_at + later, now))


def static_pages(view: SiteView) -> list[StaticPage]:
    v = view.info.village
    since = view.now - timedelta(days=700)
    return [
        StaticPage(
            PAGE_ID_BASE + i,
            title,
            slugify(title),
            since + timedelta(days=i),
            f"<p>{title} Pemerintah {v.sebutan} {escape(v.name)}, Kecamatan "
            f"{escape(v.kecamatan_name)}. Kepala {v.sebutan}, Sekretaris {v.sebutan} dan "
            "perangkat melayani warga pada hari kerja.</p>\n",
        )
        for i, title in enumerate(STATIC_PAGES)
    ]


def _local(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%dT%H:%M:%S")


def _gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")  # no offset, as WP writes it


def post_json(site: SiteInfo, art: Article, now: datetime) -> dict[str, object]:
    """A post as GET /wp/v2/posts shows it anonymously (context view)."""
    modified = modified_at(art, now)
    rest = f"{site.base}/wp-json/wp/v2"
    return {
        "id": art.id,
        "date": _local(art.published_at),
        "date_gmt": _gmt(art.published_at),
        "guid": {"rendered": f"{site.base}/?p={art.id}"},
        "modified": _local(modified),
        "modified_gmt": _gmt(modified),
        "slug": art.slug,
        "status": "publish",
        "type": "post",
        "link": site.article_url(art),
        "title": {"rendered": texturize(art.title)},
        "content": {"rendered": art.body_html + "\n", "protected": False},
        "excerpt": {
            "rendered": f"<p>{escape(excerpt(art.body_html))} [&hellip;]</p>\n",
            "protected": False,
        },
        "author": 1,
        "featured_media": 0,
        "comment_status": "open",
        "ping_status": "open",
        "sticky": False,
        "template": "",
        "format": "standard",
        "meta": {"footnotes": ""},
        "categories": [category_id(art.category)],
        "tags": [],
        "_links": {
            "self": [{"href": f"{rest}/posts/{art.id}"}],
            "collection": [{"href": f"{rest}/posts"}],
        },
    }


def page_json(site: SiteInfo, page: StaticPage) -> dict[str, object]:
    return {
        "id": page.id,
        "date": _local(page.published_at),
        "date_gmt": _gmt(page.published_at),
        "guid": {"rendered": f"{site.base}/?page_id={page.id}"},
        "modified": _local(page.published_at),
        "modified_gmt": _gmt(page.published_at),
        "slug": page.slug,
        "status": "publish",
        "type": "page",
        "link": f"{site.base}/{page.slug}/",
        "title": {"rendered": texturize(page.title)},
        "content": {"rendered": page.body_html, "protected": False},
        "excerpt": {"rendered": f"<p>{escape(excerpt(page.body_html))}</p>\n", "protected": False},
        "author": 1,
        "parent": 0,
        "menu_order": 0,
        "template": "",
        "_links": {"self": [{"href": f"{site.base}/wp-json/wp/v2/pages/{page.id}"}]},
    }


def categories_json(view: SiteView) -> list[dict[str, object]]:
    counts: dict[str, int] = {}
    for art in view.articles:
        counts[art.category] = counts.get(art.category, 0) + 1
    terms = [(UNCATEGORIZED[1], 0), *sorted(counts.items())]
    return [
        {
            "id": UNCATEGORIZED[0] if name == UNCATEGORIZED[1] else category_id(name),
            "count": count,
            "description": "",
            "link": f"{view.info.base}/category/{slugify(name)}/",
            "name": name,
            "slug": slugify(name),
            "taxonomy": "category",
            "parent": 0,
            "meta": [],
        }
        for name, count in terms
    ]


def _head(site: SiteInfo, title: str, extra: str = "") -> str:
    v, spec, b = site.village, site.spec, escape(site.base)
    name = f"{v.sebutan} {escape(v.name)}"
    theme, tver = spec.theme, THEME_VERSIONS.get(spec.theme, "1.0")
    return f"""<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<meta name='robots' content='max-image-preview:large' />
<link rel="alternate" type="application/rss+xml" title="{name} &raquo; Feed" href="{b}/feed/" />
<link rel="alternate" type="application/rss+xml" title="{name} &raquo; Umpan Komentar" \
href="{b}/comments/feed/" />
<link rel='stylesheet' id='wp-block-library-css' \
href='{b}/wp-includes/css/dist/block-library/style.min.css?ver={spec.version}' media='all' />
<link rel='stylesheet' id='{theme}-style-css' href='{b}/wp-content/themes/{theme}/style.css\
?ver={tver}' media='all' />
<script src="{b}/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<link rel="https://api.w.org/" href="{b}/wp-json/" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{b}/xmlrpc.php?rsd" />
<meta name="generator" content="WordPress {spec.version}" />
{extra}</head>
<body class="wp-theme-{theme}">
<header class="site-header">
<h1 class="site-title"><a href="{b}/" rel="home">{name}</a></h1>
<p class="site-description">Website Resmi Pemerintah {name} Kecamatan \
{escape(v.kecamatan_name)}</p>
</header>
"""


_FOOT = (
    '<footer class="site-footer"><p>Bangga menggunakan '
    '<a href="https://wordpress.org/">WordPress</a></p></footer>\n</body>\n</html>\n'
)


def home_page(view: SiteView, page: int) -> str | None:
    """The blog index page N (None past the last page)."""
    site = view.info
    count = max(1, -(-len(view.articles) // HOME_ITEMS))
    if not 1 <= page <= count:
        return None
    rows = []
    for art in view.articles[(page - 1) * HOME_ITEMS : page * HOME_ITEMS]:
        cat = slugify(art.category)
        rows.append(
            f'<article id="post-{art.id}" class="post-{art.id} post type-post status-publish '
            f'format-standard hentry category-{cat}">\n'
            f'<h2 class="entry-title"><a href="{escape(site.article_url(art))}" rel="bookmark">'
            f"{texturize(art.title)}</a></h2>\n"
            f'<div class="entry-meta"><time class="entry-date published" '
            f'datetime="{_local(art.published_at)}+07:00">{tanggal(art.published_at)}</time></div>\n'
            f'<div class="entry-summary"><p>{escape(excerpt(art.body_html, 160))} [&hellip;]</p>'
            "</div>\n</article>"
        )
    nav = ""
    if page < count:
        nxt = f"{escape(site.base)}/page/{page + 1}/"
        nav = f'<a class="next page-numbers" href="{nxt}">Berikutnya</a>'
    v = site.village
    title = f"{v.sebutan} {escape(v.name)} &#8211; Website Resmi"
    main = "\n".join(rows) or "<p>Belum ada tulisan.</p>"
    return (
        f'{_head(site, title)}<main id="main" class="site-main">\n{main}\n'
        f'<nav class="navigation pagination">{nav}</nav>\n</main>\n{_FOOT}'
    )


def single_page(site: SiteInfo, item: Article | StaticPage) -> str:
    """A single post or page."""
    title = texturize(item.title)
    kind = "page" if isinstance(item, StaticPage) else "post"
    shortlink = f"{site.base}/?{'page_id' if kind == 'page' else 'p'}={item.id}"
    extra = f"<link rel='shortlink' href='{escape(shortlink)}' />\n"
    v = site.village
    return (
        f"{_head(site, f'{title} &#8211; {v.sebutan} {escape(v.name)}', extra)}"
        f'<main id="main" class="site-main">\n<article id="post-{item.id}" class="{kind} '
        f'type-{kind} status-publish">\n<h1 class="entry-title">{title}</h1>\n'
        f'<time class="entry-date published" datetime="{_local(item.published_at)}+07:00">'
        f'{tanggal(item.published_at)}</time>\n<div class="entry-content">\n{item.body_html}\n'
        f"</div>\n</article>\n</main>\n{_FOOT}"
    )


def not_found_page(site: SiteInfo) -> str:
    v = site.village
    title = f"Halaman tidak ditemukan &#8211; {v.sebutan} {escape(v.name)}"
    return (
        f'{_head(site, title)}<main id="main"><h1 class="page-title">Oops! Halaman itu tidak '
        f"dapat ditemukan.</h1></main>\n{_FOOT}"
    )


def feed_xml(view: SiteView, items: list[Article]) -> str:
    """RSS 2.0 from /feed/: XML declaration, GMT dates, generator with the exact version."""
    site, v = view.info, view.info.village
    b = escape(site.base)
    built = max((modified_at(a, view.now) for a in items), default=view.now)
    entries = []
    for art in items:
        link = escape(site.article_url(art))
        entries.append(
            "\t<item>\n"
            f"\t\t<title>{texturize(art.title)}</title>\n"
            f"\t\t<link>{link}</link>\n"
            f"\t\t<comments>{link}#respond</comments>\n"
            f"\t\t<dc:creator>{cdata('admin')}</dc:creator>\n"
            f"\t\t<pubDate>{format_datetime(art.published_at.astimezone(UTC))}</pubDate>\n"
            f"\t\t<category>{cdata(art.category)}</category>\n"
            f'\t\t<guid isPermaLink="false">{b}/?p={art.id}</guid>\n'
            f"\t\t<description>{cdata(excerpt(art.body_html) + ' [&#8230;]')}</description>\n"
            f"\t\t<content:encoded>{cdata(art.body_html)}</content:encoded>\n"
            f"\t\t<wfw:commentRss>{link}feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>0</slash:comments>\n"
            "\t</item>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n\n<channel>\n'
        f"\t<title>{v.sebutan} {escape(v.name)}</title>\n"
        f'\t<atom:link href="{b}/feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{b}</link>\n"
        f"\t<description>Website Resmi Pemerintah {v.sebutan} {escape(v.name)}</description>\n"
        f"\t<lastBuildDate>{format_datetime(built.astimezone(UTC))}</lastBuildDate>\n"
        "\t<language>id</language>\n"
        "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
        "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
        f"\t<generator>https://wordpress.org/?v={site.spec.version}</generator>\n"
        f"{''.join(entries)}"
        "</channel>\n</rss>\n"
    )
