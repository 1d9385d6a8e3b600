"""Text normalisation before matching (docs/design.md, P15): NFKC, zero-width and mark
removal, homoglyph folding, leetspeak; plus the obfuscation-run counter and evidence cleaning.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlsplit

# P15: invisible characters used to split words ("s\u200blot"): ZW space/joiners, LRM/RLM,
# bidi embeddings, word joiner, BOM, soft hyphen.
_INVISIBLE_CHARS = "\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\u180e"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# P15: homoglyphs NFKC leaves alone (Cyrillic and Greek look-alikes of Latin letters).
_CONFUSABLES = str.maketrans(
    "аАвВеЕѕЅіІјЈкКмМнНоОрРсСтТуУхХԁһӏɡαΑβΒεΕηΗιΙκΚμΜνΝοΟρΡτΤυΥχΧ",
    "aAbBeEsSiIjJkKmMhHoOpPcCtTyYxXdhlgaAbBeEnHiIkKuMvNoOpPtTuYxX",
)
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_SEPARATORS_AS_SPACES = str.maketrans(dict.fromkeys("-_./+=&?%", " "))  # url separators
# Leet: full map for slugs, anchors and hosts; "1" is read as "i" (s1tus, w1n).
_LEET = str.maketrans("0134@5$7", "oieaasst")
# In prose a digit only stands for a letter when it sits between letters ("sl0t", "g4cor").
# (The digit is matched first and its left neighbour looked behind: a pattern that starts
# with a character set lets the matcher skip to candidates, three times faster on prose.)
_SANDWICHED = re.compile(r"[013457@$](?<=[a-z][013457@$])(?=[a-z])(?!d\b)")  # keeps "toto4d"
_MATH_CHARS = "\U0001d400-\U0001d7ff"
_FULLWIDTH_CHARS = "\uff21-\uff3a\uff41-\uff5a\uff10-\uff19"
_LOOKALIKE_CHARS = "\u0370-\u03ff\u0400-\u04ff"  # Greek and Cyrillic (_mixed_script)
_MATH_ALNUM = re.compile(f"[{_MATH_CHARS}]{{4,}}")
_FULLWIDTH = re.compile(f"[{_FULLWIDTH_CHARS}]{{4,}}")
_WORD = re.compile(r"\S+")
_SCHEME = re.compile(r"\b(http)(s?)://", re.IGNORECASE)


# Non-ASCII characters common in village prose that the Unicode steps of `fold_letters`
# turn into ASCII (NFKC: the ellipsis a cut excerpt ends with, a no-break space) or leave
# as they are (typographic quotes, dashes, bullets): a text with no other non-ASCII
# character skips those steps, which cost ~50 µs for a 300-character excerpt.
_NEEDS_UNICODE = re.compile("[^\\x00-\\x7f\u2018\u2019\u201c\u201d\u2013\u2014\u2022\u00b7]")


def _as_nfkc(text: str) -> str:
    """The ellipsis and no-break space as NFKC gives them (two replaces: str.translate
    with a mapping walks the text in Python-level lookups, ~20 µs for an excerpt)."""
    return text.replace("\u2026", "...").replace("\u00a0", " ")


def _unicode_fold(text: str) -> str:
    """NFKC, invisibles and combining marks removed, homoglyphs folded."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))
    return text.translate(_CONFUSABLES)


def fold_letters(text: str) -> str:
    """`fold` without squeezing letter runs or collapsing whitespace: the same tokens, but
    for the length of their letter runs (what a check that squeezes them itself needs)."""
    if not text.isascii():
        text = _as_nfkc(text)
        if _NEEDS_UNICODE.search(text) is not None:
            text = _unicode_fold(text)
    text = text.lower()
    if any(c in text for c in "013457@$"):
        text = _SANDWICHED.sub(lambda m: m.group(0).translate(_LEET), text)
    return text


def fold(text: str) -> str:
    """Matching form of prose: NFKC, invisibles and combining marks gone, homoglyphs folded,
    lower case, letter runs of three or more squeezed to two, whitespace collapsed."""
    if not text:
        return ""
    text = fold_letters(text)
    if any(c * 3 in text for c in set(text) if "a" <= c <= "z"):  # rare: skip the scan
        text = _REPEAT.sub(r"\1\1", text)
    return " ".join(text.split())


def fold_slug(text: str) -> str:
    """Matching form of a slug, host, path or anchor text: `fold` with url separators as spaces."""
    return " ".join(fold(text).translate(_SEPARATORS_AS_SPACES).split())


def url_words(url: str) -> str:
    """A url's path and its query values, space-separated: what slug matching reads of it."""
    parts = urlsplit(url)
    values = " ".join(v for _, v in parse_qsl(parts.query)) if parts.query else ""
    return f"{parts.path} {values}"


def leet(text: str) -> str:
    """Full leet reading of already folded slug text ("5lot-g4c0r" → "slot gacor")."""
    return text.translate(_LEET)


def obfuscated_runs(text: str) -> list[str]:
    """P15 runs: mathematical letters or full-width letters (≥4 in a row), words mixing Latin
    with Cyrillic/Greek look-alikes, and words split by invisible characters."""
    if text.isascii():
        return []
    runs = [m.group(0) for m in _MATH_ALNUM.finditer(text)]
    runs += [m.group(0) for m in _FULLWIDTH.finditer(text)]
    for word in _WORD.findall(text):
        if len(word) < 3 or word.isascii():
            continue
        if (
            _INVISIBLE.search(word.strip("\u200b\ufeff")) and any(c.isalpha() for c in word)
        ) or _mixed_script(word):
            runs.append(word)
    return runs


# Every character an obfuscated run needs one of (math and full-width letters, invisibles,
# Greek and Cyrillic look-alikes).
_RUN_CHARS = re.compile(f"[{_MATH_CHARS}{_FULLWIDTH_CHARS}{_INVISIBLE_CHARS}{_LOOKALIKE_CHARS}]")


def may_be_obfuscated(text: str) -> bool:
    """Whether `obfuscated_runs` could find a run in `text` or in any part of it."""
    return not text.isascii() and _RUN_CHARS.search(text) is not None


def _mixed_script(word: str) -> bool:
    latin = other = False
    for c in word:
        if "a" <= c.lower() <= "z":
            latin = True
        elif c.isalpha() and ("\u0370" <= c <= "\u03ff" or "\u0400" <= c <= "\u04ff"):
            other = True
    return latin and other


def clean_evidence(text: str, limit: int = 300) -> str:
    """Evidence an officer can read safely: one line, no markup brackets, urls defanged
    (hxxps://), cut at `limit` characters."""
    text = _INVISIBLE.sub("", text)
    text = "".join(c if c.isprintable() else " " for c in text)
    text = _SCHEME.sub(lambda m: f"hxxp{m.group(2)}://", text)
    text = _SPACE.sub(" ", text.replace("<", "‹").replace(">", "›")).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def excerpt(text: str, limit: int = 120) -> str:
    """A short quote for evidence, cut at a word boundary."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,.;:|") + "…"
