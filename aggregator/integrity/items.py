"""One news item (P4, D6): spam post titles, excerpts and slugs, under the anti-judol guard (G1).
Used for posts found by the connectors and for post titles listed on a page.
"""

from __future__ import annotations

from aggregator.integrity.match import Terms, find_terms, guarded, promotes
from aggregator.integrity.normalise import excerpt, url_words
from aggregator.integrity.signals import Signal, signal


def _spam(terms: Terms) -> bool:
    """Promotion (see `promotes`), or three distinct Tier B words (the Laravel scanner's "≥2
    single words", raised by one because village prose has pairs); never anti-judol news."""
    return promotes(terms, tier_b=3)


def _slug_terms(url: str) -> Terms:
    return find_terms(url_words(url), slug=True)


def is_spam_item(title: str, summary: str) -> bool:
    """Whether a news item is gambling spam: flagged, and never counted as activity."""
    return _spam(find_terms(f"{title} . {summary}"))


def analyse_item(title: str, summary: str, url: str) -> list[Signal]:
    """D6 for one post: title/excerpt or slug with gambling terms, not anti-judol news."""
    where = f"post:{url}"
    text = find_terms(f"{title} . {summary}")
    slug = _slug_terms(url)
    slug_spam = promotes(slug, tier_b=3) and not guarded(text)
    if _spam(text) or slug_spam:
        terms = ", ".join(sorted(text.tier_a | slug.tier_a | text.tier_b)[:5])
        evidence = f'post title "{excerpt(title, 120)}" → {url}; terms: {terms}'
        return [signal("injected_post", 60, evidence, where)]
    if not text.tier_a:
        return []
    found = ", ".join(sorted(text.tier_a))
    if guarded(text):
        evidence = f'anti-judol post "{excerpt(title, 120)}"; terms: {found}'
        return [signal("judol_news", min(10, 2 * len(text.tier_a)), evidence, where)]
    evidence = f'post "{excerpt(title, 120)}" mentions {found}'  # a mention, not promotion
    return [signal("gambling_terms", min(10, 5 * len(text.tier_a)), evidence, where)]
