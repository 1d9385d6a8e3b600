"""Signals from one fetched HTML page: hidden blocks, head, redirects, scripts, canonical,
chrome links, listed posts, lexical hits under the guards, P15 runs, comments and P14 tokens.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from html import unescape
from urllib.parse import parse_qsl, urlsplit

from aggregator.integrity import vocabulary as vocab
from aggregator.integrity.body import Link
from aggregator.integrity.domains import (
    gambling_host,
    gambling_link,
    host_of,
    is_allowlisted,
    same_site,
)
from aggregator.integrity.fragments import classify_fragment
from aggregator.integrity.items import analyse_item
from aggregator.integrity.match import Terms, find_terms, guarded, may_have_terms, promotes
from aggregator.integrity.normalise import excerpt, fold, may_be_obfuscated, obfuscated_runs
from aggregator.integrity.page import Page, parse_page
from aggregator.integrity.scripts import script_signals
from aggregator.integrity.signals import Signal, rule_of, signal
from connectors.normalise import normalise_url


def page_where(url: str) -> str:
    parts = urlsplit(url)
    return "home" if parts.path in ("", "/") and not parts.query else f"page:{url}"


def analyse_page(
    html: bytes | str,
    url: str,
    *,
    site_host: str,
    known_tokens: Collection[str] | None = None,
) -> list[Signal]:
    """Every signal one page gives. `known_tokens`: the site's Search Console tokens from the
    last clean snapshot (P14), when there is one."""
    page = parse_page(html, url)
    where = page_where(url)
    reflected = _reflected(url)
    out = _outside(page, where, site_host)
    out += _hidden_blocks(page, where, site_host)
    visible = find_terms(_without(page.text, reflected))
    head = _head(page, where, reflected, visible)
    out += head
    out += script_signals(page, where, site_host)
    out += _canonical(page, where, site_host)
    out += _chrome_links(page, where, site_host)
    out += _posts(page, site_host)
    structural = any(rule_of(s.code).family != "info" for s in out)
    out += _lexical(visible, where, structural=structural)
    out += _fancy(page, where)
    out += _comments(page, where, site_host)
    out += _verification(page, where, known_tokens)
    if head and len(visible.tier_a) >= 3 and not guarded(visible):
        out += _landing(
            page, where, visible, has_canonical=any(s.code == "external_canonical" for s in out)
        )
    return out


LINK_FARM_MIN = 3  # visible off-site gambling links in one post body that make a link farm


def analyse_body(html: str, url: str, *, site_host: str) -> list[Signal]:
    """Signals from one post's body as the site handed it over (REST `content.rendered`, a
    feed's `content:encoded` or description, an article page), `where` the post's url: hidden
    blocks (D1), a link farm of visible off-site gambling links, promotional text (M2) and
    obfuscated runs (M6). The same guards as a page: anti-judol news is a note (G1), hidden
    UI of the site's own is not a block (G5). A post's own head, scripts and comments are the
    page scan's business, not the body's."""
    where = f"post:{url}"
    page = parse_page(html, url)
    out = _hidden_blocks(page, where, site_host)
    visible = find_terms(page.text)
    out += _link_farm(page, where, site_host, visible)
    structural = any(rule_of(s.code).family != "info" for s in out)
    out += _lexical(visible, where, structural=structural)
    out += _fancy(page, where)
    return out


# An href attribute in raw markup, its value quoted or not.
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]*))""", re.IGNORECASE)
_HIDING_MARKUP = ("style", "hidden", "<noscript")  # what a hidden block needs (body.py)


def plainly_clean_body(html: str, url: str, *, site_host: str) -> bool:
    """True when `analyse_body` cannot give this body a signal, read from the raw markup
    without building the page (most posts: prose, no off-site links). Conservative: each
    test below covers a superset of what the signal it rules out needs, and anything it
    cannot read plainly (an entity in a link) sends the body to the full analysis.

    - M2 and promotion in a hidden block need vocabulary in some text: none in the whole
      markup, entities decoded (tags only add tokens);
    - M6 needs a character an obfuscated run is made of;
    - a link farm needs LINK_FARM_MIN off-site hosts, and a hidden block without
      promotion needs an off-site link and markup that can hide something."""
    text = unescape(html) if "&" in html else html
    if may_be_obfuscated(text) or may_have_terms(text):
        return False
    lowered = html.lower()
    values = [next(v for v in m.groups() if v is not None) for m in _HREF.finditer(html)]
    if len(values) != lowered.count("href"):
        return False  # an href the pattern does not read
    offsite: set[str] = set()
    for value in values:
        if "&" in value:
            return False
        host = host_of(normalise_url(value, url))
        if host and not same_site(host, site_host):
            offsite.add(host)
    if len(offsite) >= LINK_FARM_MIN:
        return False
    return not offsite or not any(m in lowered for m in _HIDING_MARKUP)


def _link_farm(page: Page, where: str, site_host: str, visible: Terms) -> list[Signal]:
    """M1 inside a post: ≥ LINK_FARM_MIN visible off-site gambling links to distinct hosts.
    In a page only chrome or tiny links count; in a body every link is the post's own
    content. A post about fighting judi online that cites sites is not one (G1)."""
    found = [
        lk
        for lk in page.links
        if not lk.ugc and gambling_link(lk.href, lk.text, site_host=site_host)
    ]
    if len({host_of(lk.href) for lk in found}) < LINK_FARM_MIN or guarded(visible):
        return []
    points = 25 + min(20, 5 * (len(found) - 1))
    return [signal("gambling_links_visible", points, f"post body: {_links_evidence(found)}", where)]


def _reflected(url: str) -> tuple[str, ...]:
    """G4: our own query values (`/?s=slot+gacor`) are never the site's words."""
    values = (fold(v) for _, v in parse_qsl(urlsplit(url).query))
    return tuple(v for v in values if len(v) >= 3)


def _without(text: str, reflected: tuple[str, ...]) -> str:
    text = fold(text)
    for value in reflected:
        text = text.replace(value, " ")
    return text


def _links_evidence(links: list[Link], limit: int = 3) -> str:
    shown = ", ".join(f'"{excerpt(lk.text, 30)}" → {lk.href}' for lk in links[:limit])
    return shown + (f" (+{len(links) - limit} more)" if len(links) > limit else "")


def _outside(page: Page, where: str, site_host: str) -> list[Signal]:
    """P13: markup before <!DOCTYPE> or after </html>."""
    out = []
    places = (
        ("before the doctype", page.before_html),
        ("after the closing html tag", page.after_html),
    )
    for place, fragment in places:
        if fragment:
            found = classify_fragment(fragment, site_host=site_host)
            code, points = ("payload_outside_html", 70) if found.gambling else ("prefix_garbage", 0)
            out.append(signal(code, points, f"{place}: {found.evidence}", where))
    return out


def _hidden_blocks(page: Page, where: str, site_host: str) -> list[Signal]:
    """D1 (P1, P2): a hidden element with an off-site gambling link or gambling promotion. A
    hidden slide or tab of the site's own news about gambling is not one (G1, G5)."""
    out = []
    for block in page.hidden:
        terms = find_terms(block.text)
        gambling = [
            lk for lk in block.links if gambling_link(lk.href, lk.text, site_host=site_host)
        ]
        offsite = [lk for lk in block.links if not same_site(host_of(lk.href), site_host)]
        promotion = promotes(terms, tier_b=None) or (
            promotes(terms, tier_b=2) and bool(offsite) and not block.exempt  # rule (c)
        )
        if not gambling and not promotion:
            continue
        points = 70 + min(20, 5 * max(0, len(gambling) - 1))
        quoted = excerpt(block.text, 90)
        links = _links_evidence(gambling or offsite or list(block.links))
        evidence = f'{block.selector} hidden ({block.reason}): "{quoted}"; links: {links}'
        out.append(signal("hidden_link_block", points, evidence, where))
    return out[:5]


def _head(page: Page, where: str, reflected: tuple[str, ...], visible: Terms) -> list[Signal]:
    """D2 (P12): gambling promotion in the title, SEO metas, OG/Twitter cards or JSON-LD, or a
    gambling topic there that the body never mentions (an article's own title is not one)."""
    hits = []
    for label, text in (("title", page.title), *page.head):
        terms = find_terms(_without(text, reflected))
        head_only = bool(terms.tier_a - visible.tier_a) and not guarded(terms)
        if promotes(terms, tier_b=None) or head_only:  # D2 needs Tier A, not a Tier B pair
            hits.append(f'{label} "{excerpt(text, 100)}"')
    if not hits:
        return []
    code = "spam_title" if hits[0].startswith("title ") else "spam_meta"
    return [signal(code, 60, "head: " + "; ".join(hits), where)]


def _canonical(page: Page, where: str, site_host: str) -> list[Signal]:
    """M3 (P5): canonical/amphtml handing the page's ranking to another site."""
    external = []
    for rel, target in (("canonical", page.canonical), ("amphtml", page.amphtml)):
        host = host_of(target)
        if host and not same_site(host, site_host) and not is_allowlisted(host):
            external.append((rel, target, gambling_host(host)))
    if not external:
        return []
    points = 30 + (20 if any(g for _, _, g in external) else 0)
    evidence = "; ".join(f"link rel={rel} → {target}" for rel, target, _ in external)
    return [signal("external_canonical", points, evidence, where)]


def _chrome_links(page: Page, where: str, site_host: str) -> list[Signal]:
    """M1 (P3): visible off-site gambling links in header/footer/sidebar or tiny type."""
    found = [
        lk
        for lk in page.links
        if (lk.chrome or lk.tiny)
        and not lk.ugc
        and gambling_link(lk.href, lk.text, site_host=site_host)
    ]
    if not found:
        return []
    points = 25 + min(20, 5 * (len(found) - 1))
    evidence = f"{found[0].selector}: {_links_evidence(found)}"
    return [signal("gambling_links_visible", points, evidence, where)]


def _posts(page: Page, site_host: str) -> list[Signal]:
    """D6 (P4): post titles listed on the page (the site's own links) read as spam."""
    out: list[Signal] = []
    seen = set()
    for heading in page.headings:
        if heading.url in seen or heading.url == page.url:
            continue
        seen.add(heading.url)
        if same_site(host_of(heading.url), site_host):
            signals = analyse_item(heading.title, "", heading.url)
            out += [s for s in signals if s.code == "injected_post"]
    return out


def _lexical(terms: Terms, where: str, *, structural: bool) -> list[Signal]:
    """M2 and G1: Tier A terms in visible text; a guarded article is a note, never a verdict."""
    found = sorted(terms.tier_a)
    if not found:
        return []
    shown = ", ".join(found[:6])
    if not structural and guarded(terms):
        return [signal("judol_news", min(10, 2 * len(found)), f"anti-judol text: {shown}", where)]
    if len(found) >= 3 and promotes(terms, tier_b=None):
        return [signal("lexical_spam", min(40, 10 * len(found)), f"visible text: {shown}", where)]
    return [signal("gambling_terms", min(10, 5 * len(found)), f"visible text: {shown}", where)]


def _fancy(page: Page, where: str) -> list[Signal]:
    """M6 (P15): ≥3 runs of mathematical/full-width letters, mixed scripts or split words."""
    head_text = " ".join(text for _, text in page.head)
    runs = obfuscated_runs(f"{page.title} {head_text} {page.text}")
    if len(runs) < 3:
        return []
    shown = "; ".join(f"{excerpt(r, 30)} = {fold(r)}" for r in runs[:3])
    return [signal("fancy_unicode", 20, f"{len(runs)} obfuscated runs: {shown}", where)]


def _comments(page: Page, where: str, site_host: str) -> list[Signal]:
    """G3 (P16): gambling in comments is a moderation issue, not a compromise."""
    links = [
        lk for lk in page.links if lk.ugc and gambling_link(lk.href, lk.text, site_host=site_host)
    ]
    terms = find_terms(page.ugc_text)
    if not links and not terms.tier_a:
        return []
    count = max(len(links), 1)
    shown = _links_evidence(links) if links else ", ".join(sorted(terms.tier_a)[:4])
    return [signal("comment_spam", min(15, 5 * count), f"comments: {shown}", where)]


def _verification(page: Page, where: str, known_tokens: Collection[str] | None) -> list[Signal]:
    """M9 (P14): a Search Console token outside <head> (planted) or new since the snapshot."""
    odd = [
        (token, place)
        for token, place in page.verification
        if place != "head" or (known_tokens is not None and token not in known_tokens)
    ]
    if not odd:
        return []
    shown = ", ".join(f"{excerpt(t, 60)} ({p})" for t, p in odd[:3])
    evidence = f"google-site-verification: {shown}; owners: {len(page.verification)}"
    return [signal("search_console_foreign", 10, evidence, where)]


def _landing(page: Page, where: str, visible: Terms, *, has_canonical: bool) -> list[Signal]:
    """P5 / P6 (D9): the page IS a gambling landing page: gambling head, body and buttons."""
    buttons = [c for c in vocab.CTA if f" {c} " in f" {visible.text} "]
    if not buttons and not has_canonical:
        return []
    code = "landing_page" if where == "home" else "doorway_page"
    terms = ", ".join(sorted(visible.tier_a)[:5])
    evidence = f'title "{excerpt(page.title, 80)}"; body: {terms}; buttons: {", ".join(buttons)}'
    return [signal(code, 70, evidence, where)]
