"""Vocabulary matching over folded text: Tier A phrases, Tier B words with the benign-collocation
rule, brand-shaped tokens, and the anti-judol context guard (G1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from aggregator.integrity import vocabulary as vocab
from aggregator.integrity.normalise import fold, fold_letters, fold_slug, leet

_TOKEN = re.compile(r"[a-z0-9]+")
_SQUEEZE = re.compile(r"([a-z])\1+")
_DOUBLE = re.compile(r"([a-z])\1")
NEAR = 60  # co-occurrence window, characters
CONTEXT_RADIUS = 250  # context window around a hit, characters


@lru_cache(maxsize=1 << 15)
def _key(token: str) -> str:
    """Token key: repeated letters count once, so "gacorrr", "gaacor" and "gacor" meet.
    Remembered: the same few thousand words make up most village prose."""
    return _SQUEEZE.sub(r"\1", token) if _DOUBLE.search(token) else token


@dataclass(frozen=True)
class _Phrase:
    keys: tuple[str, ...]
    term: str
    tier: str  # "A" | "B" | "benign"


def _build_index() -> Mapping[str, tuple[_Phrase, ...]]:
    index: dict[str, list[_Phrase]] = {}
    for tier, phrases in (("A", vocab.TIER_A), ("B", vocab.TIER_B), ("benign", vocab.BENIGN)):
        for term in phrases:
            keys = tuple(_key(t) for t in _TOKEN.findall(term))
            index.setdefault(keys[0], []).append(_Phrase(keys, term, tier))
    return MappingProxyType(
        {k: tuple(sorted(v, key=lambda p: -len(p.keys))) for k, v in index.items()}
    )


_INDEX = _build_index()
# Keys that can start a hit (benign collocations only ever cancel one).
_HIT_KEYS = frozenset(k for k, ps in _INDEX.items() if any(p.tier != "benign" for p in ps))
_PROMO = frozenset(vocab.TIER_A_PROMO)
_COMPACT_A = tuple((t.replace(" ", ""), t) for t in vocab.TIER_A if len(t.replace(" ", "")) >= 6)
_CONTEXT_PHRASES = tuple(c for c in vocab.CONTEXT if " " in c)
_CONTEXT_STEMS = tuple(c for c in vocab.CONTEXT if " " not in c and len(c) >= 5)
_CONTEXT_WORDS = frozenset(c for c in vocab.CONTEXT if " " not in c and len(c) < 5)
_MARKERS = frozenset(vocab.SPAM_MARKERS)


@dataclass(frozen=True)
class Hit:
    term: str  # the vocabulary entry, e.g. "slot gacor"
    tier: str  # "A" | "B" | "brand" (a brand-shaped token near another term counts as A)
    start: int  # offset in the folded text
    end: int


@dataclass(frozen=True)
class Terms:
    """What the vocabulary found in one text (folded form kept for context and excerpts)."""

    text: str
    hits: tuple[Hit, ...]

    @property
    def tier_a(self) -> frozenset[str]:
        return frozenset(h.term for h in self.hits if h.tier in ("A", "brand"))

    @property
    def tier_b(self) -> frozenset[str]:
        return frozenset(h.term for h in self.hits if h.tier == "B")

    @property
    def promo(self) -> frozenset[str]:
        return frozenset(h.term for h in self.hits if h.tier == "brand" or h.term in _PROMO)

    def any_gambling(self, *, tier_b_pairs: bool = True) -> bool:
        """Tier A, or (rule c: hidden, head, link) two distinct Tier B words."""
        return bool(self.tier_a) or (tier_b_pairs and len(self.tier_b) >= 2)


def find_terms(text: str, *, slug: bool = False) -> Terms:
    """Hits in prose (`slug=False`) or in a slug/host/path/anchor (`slug=True`: url separators
    are spaces, the full leet map applies, and terms are also found inside glued words)."""
    if not slug:
        return _prose_terms(text)
    folded = fold_slug(text)
    leeted = leet(folded)
    if not _slug_may_hit(folded, leeted):
        return Terms(folded, ())
    hits = _scan(folded)
    seen = {(h.term, h.start) for h in hits}
    hits += [h for h in _scan(leeted) if (h.term, h.start) not in seen]
    hits += _glued(leeted, {h.start for h in hits if h.tier != "brand"})
    return _terms(folded, hits)


def _slug_may_hit(folded: str, leeted: str) -> bool:
    """Most slugs and paths hold nothing: one pre-check over both readings (a phrase split
    between them only sends the text on to the full scan) and one search for glued terms."""
    both = folded if leeted == folded else f"{folded} {leeted}"
    tokens = set(_TOKEN.findall(both))
    if _tokens_may_hit(tokens, both):
        return True
    # `_glued` reads words of six letters or more (a few distinct ones in a sitemap's urls).
    return any(len(t) >= 6 and _GLUED_ANY.search(t) is not None for t in tokens)


def may_have_slug_terms(text: str) -> bool:
    """Whether `find_terms(slug=True)` could find anything in any whitespace-separated part
    of `text` (folding and both readings work within a part, so a part's tokens are among
    the whole's): False lets a sitemap skip matching its urls one by one."""
    folded = fold_slug(text)
    return _slug_may_hit(folded, leet(folded))


@lru_cache(maxsize=2048)
def _prose_terms(text: str) -> Terms:
    """Remembered (Terms is frozen): a poll's spam check and the integrity scan beside it
    read the same title and excerpt of every new post."""
    folded = fold(text)
    return _terms(folded, _scan(folded))


def _terms(folded: str, hits: list[Hit]) -> Terms:
    return Terms(folded, tuple(sorted(_promote_brands(hits), key=lambda h: h.start)))


def _may_hit(text: str) -> bool:
    """Cheap pre-check: a Tier B word, every word of a Tier A phrase (anywhere), or something
    brand-shaped, else no hit (most village prose: "jam 09.00" is not "jam gacor"). The
    keys are `_key` of each distinct token (a letter run never spans two tokens)."""
    return _tokens_may_hit(set(_TOKEN.findall(text)), text)


def _tokens_may_hit(tokens: set[str], text: str) -> bool:
    """`_may_hit` of `text` whose distinct tokens are `tokens`."""
    keys = set(map(_key, tokens))
    for key in keys.intersection(_HIT_KEYS):
        if any(p.tier == "B" or (p.tier == "A" and keys.issuperset(p.keys)) for p in _INDEX[key]):
            return True
    return _BRAND_END.search(text) is not None


# Where BRAND_TOKEN matches somewhere: one of its suffixes, looked behind for three letters.
# A pattern whose every branch starts with a digit or letter of a suffix lets the matcher
# skip to candidates: ten times faster on prose than trying the letter run everywhere.
_BRAND_SHAPE = re.fullmatch(r"\[a-z\]\{3,14\}\(\?:([0-9a-z|]+)\)", vocab.BRAND_TOKEN.pattern)
if _BRAND_SHAPE is None:  # the vocabulary changed shape: say so at import, not by missing
    raise RuntimeError(f"BRAND_TOKEN is not letters + suffixes: {vocab.BRAND_TOKEN.pattern}")
_BRAND_END = re.compile(
    "|".join(f"{end}(?<=[a-z]{{3}}{end})" for end in _BRAND_SHAPE.group(1).split("|"))
)


def may_have_terms(text: str) -> bool:
    """Whether `find_terms` could find anything in any part of `text` read as prose: False
    means no Tier B word, no Tier A phrase's every word and nothing brand-shaped in it."""
    return _may_hit(fold_letters(text))  # _may_hit squeezes every letter run itself


def _scan(text: str) -> list[Hit]:
    if not _may_hit(text):
        return []
    tokens = [(_key(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    keys = [t[0] for t in tokens]
    benign: set[int] = set()
    tier_a: set[int] = set()
    hits: list[Hit] = []
    for i, key in enumerate(keys):
        for phrase in _INDEX.get(key, ()):
            n = len(phrase.keys)
            if phrase.tier == "B" or tuple(keys[i : i + n]) != phrase.keys:
                continue
            if phrase.tier == "benign":
                benign.update(range(i, i + n))
            elif not tier_a.intersection(range(i, i + n)):
                tier_a.update(range(i, i + n))
                hits.append(Hit(phrase.term, "A", tokens[i][1], tokens[i + n - 1][2]))
            break
    for i, (key, start, end) in enumerate(tokens):
        if i in tier_a or i in benign:
            continue
        word = next((p.term for p in _INDEX.get(key, ()) if p.tier == "B"), None)
        if word is not None:
            hits.append(Hit(word, "B", start, end))
        elif vocab.BRAND_TOKEN.fullmatch(text[start:end]):
            hits.append(Hit(text[start:end], "brand", start, end))
    return hits


# Every substring `_glued` looks for: where none occurs, it finds nothing.
_GLUED_ANY = re.compile(
    "|".join(re.escape(t) for t in sorted({c for c, _ in _COMPACT_A} | set(vocab.TIER_B_IN_WORDS)))
)


def _glued(text: str, taken: set[int]) -> list[Hit]:
    """Slug words glued together ("slotgacor88", "situstoto"): Tier A and distinctive Tier B."""
    hits: list[Hit] = []
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if m.start() in taken or len(word) < 6:
            continue
        found = [term for compact, term in _COMPACT_A if compact in word]
        hits += [Hit(term, "A", m.start(), m.end()) for term in found]
        if not found:
            hits += [
                Hit(b, "B", m.start(), m.end())
                for b in vocab.TIER_B_IN_WORDS
                if b in word and b != word
            ]
    return hits


def _promote_brands(hits: list[Hit]) -> list[Hit]:
    """A brand-shaped token counts as Tier A only within 60 characters of another term."""
    others = [h for h in hits if h.tier != "brand"]
    kept: list[Hit] = []
    for h in hits:
        if h.tier != "brand" or any(abs(o.start - h.start) <= NEAR + len(h.term) for o in others):
            kept.append(h)
    return kept


def context_terms(terms: Terms, radius: int = CONTEXT_RADIUS) -> frozenset[str]:
    """Anti-judol context words within `radius` characters of any hit."""
    if not terms.hits:
        return frozenset()
    spans: list[tuple[int, int]] = []
    for h in terms.hits:
        lo, hi = max(0, h.start - radius), h.end + radius
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    found: set[str] = set()
    for lo, hi in spans:
        window = terms.text[lo:hi]
        words = _TOKEN.findall(window)
        found.update(c for c in _CONTEXT_PHRASES if re.search(rf"\b{c}\b", window))
        found.update(w for w in words if w in _CONTEXT_WORDS)
        found.update(s for s in _CONTEXT_STEMS if any(s in w for w in words))
    return frozenset(found)


def guarded(terms: Terms) -> bool:
    """G1: the text is ABOUT fighting gambling. Two distinct context words near the hits, or one
    when every hit is a neutral topic phrase; never when it carries ≥3 promotion phrases (the
    CTA-density tie-breaker)."""
    promo = terms.promo
    if len(promo) >= 3:
        return False
    context = context_terms(terms)
    return len(context) >= 2 or (len(context) == 1 and not promo)


def promotes(terms: Terms, *, tier_b: int | None = 2) -> bool:
    """Gambling promotion rather than a mention: a promotion phrase or brand, a topic phrase
    with a sales word (daftar, terpercaya, bonus…), or `tier_b` distinct Tier B words (G2; None:
    Tier B words alone never do); never text about fighting gambling (G1)."""
    if not terms.hits or guarded(terms):
        return False
    if terms.promo:
        return True
    if terms.tier_a and _MARKERS.intersection(_TOKEN.findall(terms.text)):
        return True
    return tier_b is not None and len(terms.tier_b) >= tier_b
