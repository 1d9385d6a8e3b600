"""OpenSID's RSS feed (`/feed`) and sitemap, with each era's quirks."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from .model import WIB, Article
from .render import SiteInfo, cdata, excerpt

FEED_ITEMS = 50
BOM = "\ufeff"


def _category(site: SiteInfo, name: str) -> str:
    if site.spec.era == "2101":
        return ""  # <category> appeared in v2305
    if site.spec.era == "blade":  # the Blade view pads the CDATA with whitespace and newlines
        return f"\t\t\t<category>\n\t\t\t\t{cdata(f'  {name}  ')}\n\t\t\t</category>\n"
    return f"\t\t\t<category>{cdata(name)}</category>\n"


def _item(site: SiteInfo, art: Article) -> str:
    era = site.spec.era
    link = escape(site.article_url(art))
    # The Blade view escapes the already escaped title once more (&amp;amp;).
    title = escape(escape(art.title)) if era == "blade" else escape(art.title)
    image = escape(f"{site.base}/desa/upload/artikel/{art.image}")
    description = f'<img src="{image}"/> {escape(excerpt(art.body_html))} [...]'
    # OpenSID prints the stored local wall clock with php.ini's offset: a server left at UTC
    # (as the 2410 natra kind is here) says "+0000" for WIB digits, seven hours late.
    local = art.published_at.astimezone(WIB)
    if site.spec.version == "2410" and site.spec.theme == "natra":
        local = local.replace(tzinfo=UTC)
    date = format_datetime(local)
    # Up to v22.01 the date element is a lowercase <pubdate> and there is no <guid>.
    stamp = f"<pubdate>{date}</pubdate>" if era == "2101" else f"<pubDate>{date}</pubDate>"
    guid = "" if era == "2101" else f"\t\t\t<guid>{link}</guid>\n"
    return (
        "\t\t<item>\n"
        f"\t\t\t<title>{title}</title>\n"
        f"\t\t\t<link>{link}</link>\n"
        f"\t\t\t{stamp}\n"
        "\t\t\t<dc:creator>Admin Desa</dc:creator>\n"
        f"{_category(site, art.category)}"
        f"{guid}"
        f"\t\t\t<description>{cdata(description)}</description>\n"
        f"\t\t\t<content:encoded>{cdata(art.body_html)}</content:encoded>\n"
        "\t\t</item>\n"
    )


def feed_xml(site: SiteInfo, items: list[Article], now: datetime) -> str:
    """RSS 2.0 the way OpenSID writes it (no XML declaration, dc/atom/sy namespaces)."""
    v, b, spec = site.village, escape(site.base), site.spec
    place = f"{v.sebutan} {v.name} Kec. {v.kecamatan_name} Kab. Purbalingga Prov. Jawa Tengah."
    # "OpenDESA" up to at least v2305, "OpenDesa" from v2310.
    owner = "OpenDESA" if int(spec.version) < 2310 else "OpenDesa"
    text = (
        '<rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/">\n'
        "\t<channel>\n"
        f"\t\t<title>Desa {escape(v.name)}</title>\n"
        f'\t\t<atom:link href="{escape(site.site_url("/feed"))}" rel="self" '
        'type="application/rss+xml" />\n'
        f"\t\t<link>{b}/</link>\n"
        f"\t\t<description>Situs Web {escape(place)}</description>\n"
        "\t\t<dc:language>id</dc:language>\n"
        f"\t\t<dc:rights>Copyright 2016-{now.astimezone(WIB).year} {owner} - OpenSID "
        f"{spec.label}</dc:rights>\n"
        "\t\t<sy:updatePeriod>hourly</sy:updatePeriod>\n"
        "\t\t<sy:updateFrequency>1</sy:updateFrequency>\n"
        f"{''.join(_item(site, art) for art in items)}"
        "\t</channel>\n"
        "</rss>\n"
    )
    return BOM + text if spec.era == "2101" else text


def sitemap_xml(site: SiteInfo, articles: list[Article]) -> str:
    """Home page, then every article row: future-dated ones too (no published filter)."""
    urls = [f"<url><loc>{escape(site.base)}/</loc><priority>1.0</priority></url>"]
    for art in articles:
        lastmod = art.published_at.astimezone(WIB).date().isoformat()
        urls.append(
            f"<url><loc>{escape(site.article_url(art))}</loc><lastmod>{lastmod}</lastmod>"
            "<changefreq>weekly</changefreq><priority>0.5</priority></url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(urls)
        + "\n</urlset>\n"
    )
