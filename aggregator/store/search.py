"""The words of a news search, and which of them SQLite's full-text index answers and which
are checked on each row instead.

FTS5 answers a word as a prefix (`"desa"*`) by merging the lists of every indexed word that
starts with it before returning the first match: for a word found in nearly every item
that is two million entries, a fifth of a second, even when the other word of the search
("embung desa") matches a few hundred items. So each word is first looked up exactly among
the SAMPLE newest items (an exact word is read as a stream, from the newest part of its list:
a millisecond). A word in DENSE_SHARE of them is common: it is not given to FTS5 but tested
on the rows the rarer words found (or, if every word is common, on the newest rows, where
it soon matches) by `has_words`, which splits title and summary as FTS5's `unicode61
remove_diacritics 2` tokenizer does (letters, numbers and private-use characters; lower
case; diacritics removed) and looks for a word starting with each term.

A rule about how a search is planned goes here; the queries are in `news`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, literal_column, table
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select
from sqlmodel import col

from aggregator.models import NEWS_FTS_TABLE, NewsItem

# The SQL function `has_words` is registered as on every SQLite connection.
WORDS_FUNCTION = "sipande_has_words"
# A word found (exactly) in at least DENSE_SHARE of the SAMPLE newest items is common: it is
# checked on each row instead of by FTS5.
SAMPLE = 1_000
DENSE_SHARE = 0.3
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# A search is at most this many words (each one a prefix), all of which must occur.
MAX_SEARCH_TERMS = 8
_WORD = re.compile(r"[^\W_]+")
_FTS = table(NEWS_FTS_TABLE, sa_column("rowid"))


def search_terms(q: str) -> list[str]:
    """The words of a search box: letters and digits only, so whatever the user typed
    (quotes, `*`, `NEAR(`, `%`...) never reaches the full-text query syntax."""
    return [w.casefold() for w in _WORD.findall(q)][:MAX_SEARCH_TERMS]


def like_pattern(text: str) -> str:
    """A LIKE pattern finding `text` anywhere (a search without any word)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def tsquery(terms: list[str]) -> str:
    """PostgreSQL to_tsquery: every word as a quoted prefix lexeme (`'posyandu':* & ...`)."""
    return " & ".join(f"'{t}':*" for t in terms)


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


@lru_cache(maxsize=256)
def _starts(terms: str) -> list[re.Pattern[str]]:
    """Per term, a word of lower-case ASCII text starting with it."""
    return [re.compile(f"(?<![a-z0-9]){re.escape(t)}") for t in terms.split()]


def has_words(title: str | None, summary: str | None, terms: str) -> int:
    """1 if every space-separated term starts a word of title or summary."""
    text = f"{title or ''} {summary or ''}"
    if text.isascii():
        lower = text.lower()
        return int(all(p.search(lower) for p in _starts(terms)))
    words = fold_words(text)
    return int(all(any(w.startswith(t) for w in words) for t in terms.split()))


def register(dbapi_conn: Any) -> None:
    """Make `has_words` callable from SQL on a new SQLite connection."""
    dbapi_conn.create_function(WORDS_FUNCTION, 3, has_words, deterministic=True)


def _checkable(term: str) -> bool:
    """Whether `has_words` tests the term as FTS5 does (it folds to the one word it is)."""
    return fold_words(term) == [term]


def _dense(conn: Connection, term: str, newest: int) -> bool:
    """Whether the word `term` is in at least DENSE_SHARE of the SAMPLE newest items."""
    exact = (
        sa_select(func.count())
        .select_from(_FTS)
        .where(literal_column(NEWS_FTS_TABLE).op("MATCH")(f'"{term}"'))
        .where(_FTS.c.rowid > newest - SAMPLE)
    )
    return int(conn.execute(exact).scalar_one()) >= SAMPLE * DENSE_SHARE


def split_terms(conn: Connection, terms: list[str]) -> tuple[list[str], list[str]]:
    """(words FTS5 answers, common words checked on each row)."""
    if not terms:
        return [], []
    newest = conn.execute(sa_select(func.max(col(NewsItem.id)))).scalar_one() or 0
    common = [t for t in terms if _checkable(t) and _dense(conn, t, int(newest))]
    return [t for t in terms if t not in common], common


def words_check(title: Any, summary: Any, common: list[str]) -> Any:
    """SQL condition: every common word starts a word of the item's title or summary."""
    return getattr(func, WORDS_FUNCTION)(title, summary, " ".join(common)) == 1
