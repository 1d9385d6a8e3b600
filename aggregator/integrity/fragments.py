"""P13: markup printed outside the document (before <!DOCTYPE>, after </html>, before a JSON
or XML body). Gambling there is D8; anything else is a note (a PHP warning, T15).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from aggregator.integrity.domains import gambling_link
from aggregator.integrity.match import find_terms
from aggregator.integrity.normalise import excerpt
from aggregator.integrity.page import decode
from aggregator.integrity.signals import Signal, signal
from connectors.normalise import html_to_text, normalise_url

_BODY_START = re.compile(
    r"<\?xml|<(?:urlset|sitemapindex|rss|feed)[\s>]|[\[{]\s*[\"\[{\]}]|[\[{]\s*\Z"
)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Fragment:
    gambling: bool
    evidence: str


def classify_fragment(fragment: str, *, site_host: str, base: str = "") -> Fragment:
    """Gambling if it carries a Tier A term, an off-site gambling link, or a Tier B pair with
    links (rule c: text nobody sees)."""
    text = html_to_text(fragment)
    anchors = LexborHTMLParser(fragment).css("a[href]") if "<a" in fragment.lower() else []
    links = [(normalise_url(a.attributes.get("href") or "", base), a.text()) for a in anchors]
    terms = find_terms(text)
    gambling_links = [h for h, t in links if h and gambling_link(h, t, site_host=site_host)]
    gambling = bool(terms.tier_a or gambling_links or (len(terms.tier_b) >= 2 and links))
    shown = f'"{excerpt(text or fragment, 100)}"'
    if gambling_links or links:
        shown += "; links: " + ", ".join((gambling_links or [h for h, _ in links])[:3])
    return Fragment(gambling, shown)


def analyse_prefix(body: bytes | str, url: str, *, site_host: str, where: str) -> list[Signal]:
    """D8 / note: bytes before the JSON or XML body of an API, feed or sitemap response."""
    text = decode(body)
    start = _BODY_START.search(text)
    prefix = text[: start.start()] if start else ""
    prefix = _COMMENT.sub("", prefix).strip(" \t\r\n\ufeff")
    if not prefix:
        return []
    found = classify_fragment(prefix, site_host=site_host, base=url)
    kind = "XML" if start and text[start.start()] == "<" else "JSON"
    evidence = f"before the {kind} body of {url}: {found.evidence}"
    if found.gambling:
        return [signal("payload_outside_html", 70, evidence, where)]
    return [signal("prefix_garbage", 0, evidence, where)]
