"""UA and referer cloaking (P8, P9; D3, D4, M5): what a search crawler or a visitor arriving from
a search engine is served that a browser is not, after the WAF (G6) and noise (G7) guards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aggregator.integrity import vocabulary as vocab
from aggregator.integrity.domains import (
    gambling_link,
    gambling_url,
    host_of,
    is_allowlisted,
    same_site,
)
from aggregator.integrity.match import find_terms, guarded
from aggregator.integrity.normalise import excerpt, fold
from aggregator.integrity.page import Page, parse_page
from aggregator.integrity.scripts import script_signals
from aggregator.integrity.signals import Signal, rule_of, signal

VARIANTS = ("browser", "crawler", "search")
LABELS = {"browser": "browser", "crawler": "Googlebot UA", "search": "visitor from Google"}
_BLOCKED_STATUS = frozenset({403, 406, 429, 503})
_SHORT_PAGE = 3000  # challenge pages are short; a long page merely mentioning "captcha" is not
# G7: words that change per request (dates, counters) do not count as divergence.
_NOISE = re.compile(
    r"\d|^(senin|selasa|rabu|kamis|jumat|sabtu|minggu|januari|februari|maret|april|mei|juni"
    r"|juli|agustus|september|oktober|november|desember|wib|pengunjung|online|hari|ini)$"
)


def compare_views(
    browser: bytes,
    crawler: bytes,
    search_visitor: bytes,
    url: str,
    *,
    site_host: str,
    statuses: Sequence[int] | None = None,
    final_urls: Sequence[str] | None = None,
) -> list[Signal]:
    """Signals from the three fetches of one url (V1 browser, V2 Googlebot, V3 browser with a
    Google Referer). `statuses` and `final_urls` (after redirects) are per variant when known."""
    statuses = statuses or (200, 200, 200)
    finals = final_urls or (url, url, url)
    out: list[Signal] = []
    pages: dict[str, Page] = {}
    for name, raw, status, final in zip(
        VARIANTS, (browser, crawler, search_visitor), statuses, finals, strict=True
    ):
        page = parse_page(raw, final)
        if status in _BLOCKED_STATUS or _challenge(page):
            evidence = f'{LABELS[name]} got HTTP {status}: "{excerpt(page.title, 60)}"'
            out.append(signal("variant_inconclusive", 0, evidence, f"variant:{name}"))
        else:
            pages[name] = page
    base = pages.get("browser")
    if base is None:
        return out
    seen = _profile(base, site_host)
    for name, final in (("crawler", finals[1]), ("search", finals[2])):
        variant = pages.get(name)
        if variant is None:
            continue
        where = f"variant:{name}"
        if name == "search" and (moved := _elsewhere(final, finals[0], site_host)):
            out.append(signal("cloaking_referer", 85 if gambling_url(final) else 70, moved, where))
            continue
        new = [desc for key, desc in _profile(variant, site_host).items() if key not in seen]
        if new:
            code, points = ("cloaking_ua", 80) if name == "crawler" else ("cloaking_referer", 85)
            title = excerpt(variant.title, 70)
            evidence = f'{LABELS[name]} only ({final}): title "{title}"; ' + "; ".join(new[:4])
            out.append(signal(code, points, evidence, where))
        elif divergence := _divergence(base, variant, name):
            out.append(signal("view_divergence", 20, divergence, where))
    return out


def _challenge(page: Page) -> bool:
    """G6: a WAF or CAPTCHA page instead of the site (a blocked fake Googlebot is normal)."""
    text = fold(page.title) + " " + (fold(page.text) if len(page.text) < _SHORT_PAGE else "")
    srcs = " ".join(page.script_srcs)
    return any(m in text for m in vocab.CHALLENGE) or "challenge-platform" in srcs


def _profile(page: Page, site_host: str) -> dict[str, str]:
    """Gambling evidence in a page, keyed so variants compare: head and hidden terms, visible
    terms not guarded by G1, off-site gambling links, redirects and cloaker scripts."""
    found: dict[str, str] = {}
    for label, text in (("title", page.title), *page.head):
        terms = find_terms(text)
        for term in terms.tier_a if not guarded(terms) else ():
            found.setdefault(f"term:{term}", f'{label} has "{term}"')
    visible = find_terms(page.text)
    for term in visible.tier_a if not guarded(visible) else ():
        found.setdefault(f"term:{term}", f'text has "{term}"')
    for block in page.hidden:
        for term in find_terms(block.text).tier_a:
            found.setdefault(f"term:{term}", f'hidden text has "{term}"')
    links = [lk for b in page.hidden for lk in b.links] + list(page.links)
    for link in links:
        if gambling_link(link.href, link.text, site_host=site_host):
            found.setdefault(f"link:{host_of(link.href)}", f"link → {link.href}")
    for s in script_signals(page, "", site_host):
        if rule_of(s.code).family != "info":
            found.setdefault(f"script:{s.code}", s.evidence)
    return found


def _elsewhere(final: str, browser_final: str, site_host: str) -> str:
    """D4: the referer variant ends on another site the browser was not sent to."""
    host = host_of(final)
    if not host or same_site(host, site_host) or is_allowlisted(host):
        return ""
    if same_site(host, host_of(browser_final)):
        return ""
    return f"{LABELS['search']} is sent to {final}; the browser stays on {browser_final}"


def _words(page: Page) -> set[str]:
    return {w for w in fold(page.text).split() if len(w) > 2 and not _NOISE.search(w)}


def _divergence(base: Page, other: Page, name: str) -> str:
    """M5: title differs and the text is mostly different (Jaccard < 0.5 or size ±60 %)."""
    if fold(base.title) == fold(other.title):
        return ""
    a, b = _words(base), _words(other)
    overlap = len(a & b) / len(a | b) if a | b else 1.0
    sizes = (len(base.text), len(other.text))
    size_change = abs(sizes[0] - sizes[1]) / max(max(sizes), 1)
    if overlap >= 0.5 and size_change <= 0.6:
        return ""
    return (
        f'{LABELS[name]} title "{excerpt(other.title, 60)}" vs browser '
        f'"{excerpt(base.title, 60)}"; text overlap {overlap:.0%}'
    )
