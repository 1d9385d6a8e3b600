"""Sitemaps, robots.txt and HTTP redirects (P6, P7, P11): doorway urls advertised to search
engines (D7), off-host sitemaps, and a final url on another site (D5, G8).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from urllib.parse import parse_qsl, urlsplit

from aggregator.integrity import vocabulary as vocab
from aggregator.integrity.domains import (
    gambling_url,
    host_of,
    is_allowlisted,
    is_free_host,
    is_official,
    same_site,
)
from aggregator.integrity.fragments import analyse_prefix
from aggregator.integrity.match import find_terms, may_have_slug_terms, promotes
from aggregator.integrity.normalise import url_words
from aggregator.integrity.page import decode
from aggregator.integrity.signals import Signal, signal

_LOC = re.compile(r"<loc>\s*(?:<!\[CDATA\[)?\s*(.*?)\s*(?:\]\]>)?\s*</loc>", re.I | re.S)
DOORWAY_LOCS = 3  # D7: gambling <loc>s
FAN_OUT = 20  # D7: same path, one query parameter, brand-shaped values


def gambling_loc(loc: str) -> bool:
    """A <loc> whose path or query promotes gambling. A slug of the site's own article about
    gambling ("sosialisasi-bahaya-judi-online", "judi-online-merajalela") is not one (G1)."""
    return promotes(find_terms(url_words(loc), slug=True), tier_b=2)


def _doorways(locs: list[str]) -> list[str]:
    """The gambling <loc>s; one pre-check over every url's path and query values first
    (most sitemaps hold none: a village's 50 article urls cost 1.4 ms one by one)."""
    if not may_have_slug_terms(" ".join(url_words(loc) for loc in locs)):
        return []
    return [loc for loc in locs if gambling_loc(loc)]


def _fan_out(locs: list[str]) -> tuple[str, list[str]] | None:
    """P6/P7: ≥20 urls differing only by one query parameter, mostly brand-shaped values."""
    groups: dict[str, list[str]] = defaultdict(list)
    for loc in locs:
        parts = urlsplit(loc)
        for name, value in parse_qsl(parts.query) if parts.query else ():
            groups[f"{parts.path or '/'}?{name}="].append(value)
    for pattern, values in groups.items():
        if len(values) < FAN_OUT:
            continue
        branded = [
            v
            for v in values
            if vocab.BRAND_TOKEN.search(v.lower()) or find_terms(v, slug=True).tier_a
        ]
        if len(branded) * 2 >= len(values):
            return pattern, branded
    return None


def analyse_sitemap(xml: bytes, url: str, *, site_host: str) -> list[Signal]:
    """D7 and P13 for one sitemap (or sitemap index)."""
    out = analyse_prefix(xml, url, site_host=site_host, where="sitemap")
    locs = [html.unescape(m) for m in _LOC.findall(decode(xml))]
    doorways = _doorways(locs)
    fan = _fan_out(locs)
    parts = []
    if fan is not None:
        pattern, values = fan
        parts.append(f"{len(values)} loc urls {pattern}… with values {', '.join(values[:4])}")
    if len(doorways) >= DOORWAY_LOCS:
        shown = ", ".join(doorways[:2])
        parts.append(f"{len(doorways)} of {len(locs)} loc urls read as gambling: {shown}")
    if parts:
        out.append(signal("doorway_sitemap", 60, f"{url}: " + "; ".join(parts), "sitemap"))
    offhost = [loc for loc in locs if _foreign(loc, site_host)]
    if len(offhost) >= 3:
        evidence = f"{url}: {len(offhost)} loc urls on other sites: {', '.join(offhost[:3])}"
        out.append(signal("sitemap_offhost", 30, evidence, "sitemap"))
    return out


def _foreign(url: str, site_host: str) -> bool:
    host = host_of(url)
    return bool(host) and not same_site(host, site_host) and not is_allowlisted(host)


def analyse_robots(text: bytes | str, url: str, *, site_host: str) -> list[Signal]:
    """P7: `Sitemap:` lines pointing at another site; the caller fetches every sitemap listed."""
    lines = decode(text).splitlines()
    sitemaps = [ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("sitemap:")]
    foreign = [s for s in sitemaps if _foreign(s, site_host)]
    if not foreign:
        return []
    evidence = f"{url}: Sitemap lines on other sites: {', '.join(foreign[:3])}"
    return [signal("robots_sitemap_offhost", 30, evidence, "robots")]


def analyse_redirect(
    url: str, final_url: str, *, site_host: str, where: str = "home"
) -> list[Signal]:
    """P11 (D5) for an HTTP redirect chain seen by every variant; G8 for legitimate moves."""
    host = host_of(final_url)
    if not host or same_site(host, site_host):
        return []
    evidence = f"{url} redirects to {final_url}"
    if is_official(host) or is_allowlisted(host):
        return [signal("moved", 0, evidence, where)]
    if gambling_url(final_url):
        return [signal("offsite_redirect", 85, evidence, where)]
    if is_free_host(host):
        return [signal("offsite_redirect", 70, evidence, where)]
    return [signal("offsite_redirect", 30, evidence, where)]
