"""Which words of a SQLite news search the full-text index answers, and which are checked
on each row instead.

FTS5 answers a word as a prefix (`"desa"*`) by merging the lists of every indexed word that
starts with it before returning the first match: for a word found in nearly every item
that is two million entries, half a second, even when the other word of the search
("embung desa") matches a few hundred items. So each word's exact matches are counted
first, stopping at COMMON_FROM (an exact word is read as a stream: a few milliseconds).
Words past that are common: they are not given to FTS5 but tested on the rows the rarer
words found (or, if every word is common, on the newest rows), by `has_words`, which splits
title and summary as FTS5's `unicode61 remove_diacritics 2` tokenizer does (letters,
numbers and private-use characters; lower case; diacritics removed) and looks for a word
starting with each term.

A rule about how a search is planned goes here; the queries are in `news`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Connection, func, literal_column, table
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select

from aggregator.models import NEWS_FTS_TABLE

# The SQL function `has_words` is registered as on every SQLite connection.
WORDS_FUNCTION = "sipande_has_words"
# Past this many exact matches, a word is checked on each row instead of by FTS5.
COMMON_FROM = 20_000
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_FTS = table(NEWS_FTS_TABLE, sa_column("rowid"))


def fts5_query(terms: list[str]) -> str:
    """SQLite FTS5: every word as a quoted prefix term (`"posyandu"* AND "desa"*`)."""
    return " AND ".join(f'"{t}"*' for t in terms)


def fts5_match(terms: list[str]) -> Any:
    return literal_column(NEWS_FTS_TABLE).op("MATCH")(fts5_query(terms))


def fold_words(text: str) -> list[str]:
    """The words of `text` as the FTS5 tokenizer indexes them."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    out = []
    for ch in unicodedata.normalize("NFD", text):
        kind = unicodedata.category(ch)
        if kind == "Mn":  # a combining diacritic
            continue
        out.append(ch.lower() if kind[0] in "LN" or kind == "Co" else " ")
    return "".join(out).split()


def has_words(title: str | None, summary: str | None, terms: str) -> int:
    """1 if every space-separated term starts a word of title or summary."""
    words = fold_words(f"{title or ''} {summary or ''}")
    return int(all(any(w.startswith(t) for w in words) for t in terms.split()))


def register(dbapi_conn: Any) -> None:
    """Make `has_words` callable from SQL on a new SQLite connection."""
    dbapi_conn.create_function(WORDS_FUNCTION, 3, has_words, deterministic=True)


def _checkable(term: str) -> bool:
    """Whether `has_words` tests the term as FTS5 does (it folds to the one word it is)."""
    return fold_words(term) == [term]


def exact_matches(conn: Connection, term: str, cap: int) -> int:
    """How many items hold the word `term` exactly, counting stops past `cap`."""
    exact = sa_select(_FTS.c.rowid).where(literal_column(NEWS_FTS_TABLE).op("MATCH")(f'"{term}"'))
    capped = sa_select(func.count()).select_from(exact.limit(cap + 1).subquery())
    return int(conn.execute(capped).scalar_one())


def split_terms(conn: Connection, terms: list[str]) -> tuple[list[str], list[str]]:
    """(words FTS5 answers, common words checked on each row)."""
    if not terms:
        return [], []
    counts = {t: exact_matches(conn, t, COMMON_FROM) if _checkable(t) else 0 for t in terms}
    common = [t for t in terms if counts[t] > COMMON_FROM]
    return [t for t in terms if t not in common], common


def words_check(title: Any, summary: Any, common: list[str]) -> Any:
    """SQL condition: every common word starts a word of the item's title or summary."""
    return getattr(func, WORDS_FUNCTION)(title, summary, " ".join(common)) == 1
