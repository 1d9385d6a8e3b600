"""News items, the news pages' reads: a page of items newest first, filtered and searched
with the database's full-text index (SQLite FTS5, PostgreSQL tsvector), their count and
categories. Writing a harvest into the items is `aggregator.store.merge`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal_column, or_, table, text
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from aggregator.clock import iso
from aggregator.models import NEWS_FTS_TABLE, NEWS_SEARCH_COLUMN, NewsItem, Village
from aggregator.store import search as plan
from aggregator.store.base import StoreBase
from aggregator.store.search import (
    fts5_match,
    like_pattern,
    search_terms,
    split_terms,
    tsquery,
    words_check,
)

_FTS = table(NEWS_FTS_TABLE, sa_column("rowid"))
# PostgreSQL's generated tsvector column (migration 0009), not a model field.
_SEARCH_VECTOR: ColumnElement[Any] = literal_column(f"newsitem.{NEWS_SEARCH_COLUMN}")


def _pg_match(vector: Any, terms: list[str]) -> ColumnElement[bool]:
    return vector.op("@@")(  # type: ignore[no-any-return]
        func.to_tsquery(literal_column("'simple'"), tsquery(terms))
    )


class News(StoreBase):
    """The news pages' reads."""

    def _search_clause(
        self, q: str, *, drive: bool = True, split: tuple[list[str], list[str]] | None = None
    ) -> ColumnElement[bool]:
        """Word/prefix match on title and summary with the database's full-text index; a
        query without any word (only `%`, `"`...) falls back to a substring match.

        On SQLite the matches either drive the query (few of them) or, with `drive` False,
        are only a membership test (`id + 0` is no index key), so SQLite starts from the
        village's news or walks the date index instead of sorting every match. `split`
        (aggregator.store.search.split_terms) leaves its common words to a check per row."""
        terms = search_terms(q)
        dialect = self.engine.dialect.name
        if terms and dialect == "sqlite":
            indexed, common = split if split is not None else (terms, [])
            clauses = []
            if indexed:
                matches = sa_select(_FTS.c.rowid).where(fts5_match(indexed))
                clauses.append((col(NewsItem.id) if drive else col(NewsItem.id) + 0).in_(matches))
            if common:
                clauses.append(words_check(col(NewsItem.title), col(NewsItem.summary), common))
            return and_(*clauses)
        if terms and dialect == "postgresql":
            rare, common = split if split is not None else (terms, [])
            if rare and common:  # the index looks up the rare words only, see count_news
                unindexed = _SEARCH_VECTOR.op("||")(literal_column("''::tsvector"))
                return and_(_pg_match(_SEARCH_VECTOR, rare), _pg_match(unindexed, terms))
            return _pg_match(_SEARCH_VECTOR, terms)
        pattern = like_pattern(q)
        return or_(
            col(NewsItem.title).ilike(pattern, escape="\\"),
            col(NewsItem.summary).ilike(pattern, escape="\\"),
        )

    def _news_filter(
        self,
        query: Any,
        *,
        kecamatan: str | None,
        village: str | None,
        q: str | None,
        category: str | None,
        include_spam: bool,
        drive: bool = True,
        split: tuple[list[str], list[str]] | None = None,
    ) -> Any:
        if not include_spam:
            query = query.where(col(NewsItem.is_spam) == False)  # noqa: E712 - uses the index
        if kecamatan:
            query = query.where(Village.kecamatan_code == kecamatan)
        if village:
            query = query.where(NewsItem.village_code == village)
        if category:
            query = query.where(NewsItem.category == category)
        q = (q or "").replace("\x00", "")  # PostgreSQL text never holds NUL
        if q.strip():
            query = query.where(
                self._search_clause(q, drive=drive and not kecamatan and not village, split=split)
            )
        return query

    # Past this many full-text matches, SQLite finds the newest ones faster by walking the
    # date index and testing each item against the matches than by sorting all matches.
    WALK_NEWEST_FROM = 5_000

    def _walk_newest(self, s: Session, indexed: list[str], *, scoped: bool) -> bool:
        """Whether SQLite should page a kabupaten-wide search in date-index order."""
        if scoped:
            return False
        if not indexed:  # only common words: the newest items match soon
            return True
        matches = sa_select(_FTS.c.rowid).where(fts5_match(indexed))
        capped = sa_select(func.count()).select_from(
            matches.limit(self.WALK_NEWEST_FROM + 1).subquery()
        )
        return int(s.connection().execute(capped).scalar_one()) > self.WALK_NEWEST_FROM

    # SQLite, a search of only common words: the newest items are tested, at most this many
    # (or WALK_PER_ROW per row of the page); a page not filled there is looked up in FTS5.
    WALK_ROWS = 20_000
    WALK_PER_ROW = 50

    def _sqlite_split(self, s: Session, q: str | None) -> tuple[list[str], list[str]]:
        terms = search_terms((q or "").replace("\x00", ""))
        return split_terms(s.connection(), terms)

    def _newest_first(self) -> tuple[Any, ...]:
        if self.engine.dialect.name == "sqlite":  # NULLs sort last in DESC already
            return (col(NewsItem.published_at).desc(), col(NewsItem.id).desc())
        return (col(NewsItem.published_at).desc().nulls_last(), col(NewsItem.id).desc())

    # PostgreSQL, a search of every village's news: the newest items are walked in date-index
    # order and tested against the words, PG_WALK_PER_ROW per row of the page (offset
    # included), at least PG_WALK_MIN and at most PG_WALK_ROWS of them. A word in more than
    # 1/PG_WALK_PER_ROW of the items fills its page on the way; a rarer one has few enough
    # matches (< 20,000 of 2,000,000) to sort them all.
    PG_WALK_ROWS = 20_000
    PG_WALK_MIN = 2_000
    PG_WALK_PER_ROW = 100
    PG_SORT_WORK_MEM = "32MB"
    # How far down the date index the page's end may be looked for (an index-only read of
    # 200,000 entries is ~25 ms); a sparser word's matches are all read instead.
    PG_CUTOFF_ROWS = 200_000

    def _pg_sampled(self, s: Session, terms: list[str]) -> int:
        """How many of the SAMPLE newest items hold every one of `terms` (PostgreSQL)."""
        newest = (
            sa_select(_SEARCH_VECTOR.label("words"))
            .select_from(NewsItem)
            .order_by(*self._newest_first())
            .limit(plan.SAMPLE)
            .subquery()
        )
        found = sa_select(func.count()).where(_pg_match(newest.c.words, terms))
        return int(s.connection().execute(found).scalar_one())

    def _pg_dense(self, s: Session, term: str) -> bool:
        """Whether `term` is in DENSE_SHARE of the SAMPLE newest items (PostgreSQL)."""
        return self._pg_sampled(s, [term]) >= plan.SAMPLE * plan.DENSE_SHARE

    def _pg_search_ids(
        self, s: Session, base: Any, terms: list[str], offset: int, limit: int, *, scoped: bool
    ) -> list[int]:
        """The ids of one page of a PostgreSQL search, newest first. `base` selects (id,
        published_at) with every filter but the words.

        Left to itself the planner guesses how many items match and then either sorts all
        matches or walks the date index until it has a page; a wrong guess walked all two
        million items for a word found nowhere (20 s). So the plan is chosen here, and each
        step is bounded: (1) walk the newest items, as many as the matches among the 1,000
        newest say the page needs (a common word fills its page within a few hundred), at
        most PG_WALK_ROWS; (2) if no walk fills the page, the words are rare among recent
        news: fetch their matches through the GIN index (MATERIALIZED: the planner cannot
        turn it back into a walk), words found in most items left out of the look-up and
        tested on its matches, and sort them. A village or kecamatan has few enough items
        that step 2 alone is right."""
        if limit <= 0:
            return []
        # How many of the newest items match: a walk that would not fill the page within
        # PG_WALK_ROWS is not started, a shorter one is enough.
        sampled = 0 if scoped else self._pg_sampled(s, terms)
        wanted = (offset + limit) * self.PG_WALK_PER_ROW
        if sampled:
            wanted = min(wanted, 2 * (offset + limit) * plan.SAMPLE // sampled)
        if (
            not scoped
            and sampled
            and (offset + limit) * plan.SAMPLE // sampled <= self.PG_WALK_ROWS
        ):
            window = min(self.PG_WALK_ROWS, max(self.PG_WALK_MIN, wanted))
            newest = (
                base.add_columns(_SEARCH_VECTOR.label("words"))
                .order_by(*self._newest_first())
                .limit(window)
                .subquery("newest")
            )
            walk = (
                sa_select(newest.c.id)
                .where(_pg_match(newest.c.words, terms))
                .order_by(newest.c.published_at.desc().nulls_last(), newest.c.id.desc())
                .offset(offset)
                .limit(limit)
            )
            ids = [int(i) for i in s.connection().execute(walk).scalars()]
            if len(ids) == limit:
                return ids
        # Enough memory that a bitmap of 100,000s of matches stays exact (default 4 MB: lossy
        # pages, every row of them rechecked): 0.9 s -> 0.6 s for 160,000 matches.
        s.connection().execute(text(f"SET LOCAL work_mem = '{self.PG_SORT_WORK_MEM}'"))
        # Words in most items (a "desa" beside an "embung") are left out of the index
        # look-up, which would gather all their entries first, and tested on its matches.
        rare = [t for t in terms if not self._pg_dense(s, t)] or terms
        dense = [t for t in terms if t not in rare]
        found = base.where(self._search_clause(" ".join(terms), split=(rare, dense)))
        reach = 2 * (offset + limit) * plan.SAMPLE // sampled if sampled else 0
        if not scoped and 0 < reach <= self.PG_CUTOFF_ROWS:
            # A deep page of a rarer word: reading every match's row is most of the time
            # (23,000 rows for "embung", 170 ms). The matches newer than where the sample
            # says the page ends (twice over, read from the date index alone) are read
            # first; they hold the page when there are enough of them (61 ms).
            since = (
                s.connection()
                .execute(
                    sa_select(col(NewsItem.published_at))
                    .where(col(NewsItem.published_at).is_not(None))
                    .order_by(col(NewsItem.published_at).desc())
                    .offset(reach)
                    .limit(1)
                )
                .scalar()
            )
            if since is not None:
                recent = found.where(col(NewsItem.published_at) >= since)
                ids = self._pg_page(s, recent, offset, limit)
                if len(ids) == limit:
                    return ids
        return self._pg_page(s, found, offset, limit)

    @staticmethod
    def _pg_page(s: Session, found: Any, offset: int, limit: int) -> list[int]:
        """One page, newest first, of the rows `found` selects (MATERIALIZED: the planner
        cannot turn the index look-up back into a walk of the date index)."""
        matches = found.cte("matches").prefix_with("MATERIALIZED")
        page = (
            sa_select(matches.c.id)
            .order_by(matches.c.published_at.desc().nulls_last(), matches.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [int(i) for i in s.connection().execute(page).scalars()]

    def news(
        self,
        *,
        kecamatan: str | None = None,
        village: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
        include_spam: bool = False,
        category: str | None = None,
    ) -> list[dict[str, Any]]:
        # Two steps: the page's ids in order (narrow rows, index order), then those rows.
        ids_query = select(col(NewsItem.id))
        if kecamatan:
            ids_query = ids_query.join(Village, col(Village.code) == col(NewsItem.village_code))
        terms = search_terms((q or "").replace("\x00", ""))
        ids: list[int]
        with Session(self.engine) as s:
            if terms and self.engine.dialect.name == "postgresql":
                base = self._news_filter(
                    ids_query.add_columns(col(NewsItem.published_at)),
                    kecamatan=kecamatan,
                    village=village,
                    q=None,
                    category=category,
                    include_spam=include_spam,
                )
                scoped = bool(kecamatan or village)
                ids = self._pg_search_ids(s, base, terms, offset, limit, scoped=scoped)
            else:
                split = self._sqlite_split(s, q)
                scoped = bool(kecamatan or village)
                options: dict[str, Any] = {
                    "kecamatan": kecamatan,
                    "village": village,
                    "q": q,
                    "category": category,
                    "include_spam": include_spam,
                }
                found = False
                if terms and not split[0] and not scoped:
                    window = min(self.WALK_ROWS, max(2_000, (offset + limit) * self.WALK_PER_ROW))
                    recent = self._news_filter(ids_query, **{**options, "q": None})
                    recent = recent.order_by(*self._newest_first()).limit(window)
                    walk = self._news_filter(ids_query, **options, split=split).where(
                        col(NewsItem.id).in_(recent)
                    )
                    walk = walk.order_by(*self._newest_first()).offset(offset).limit(limit)
                    ids = [int(i) for i in s.exec(walk).all()]
                    found = len(ids) == limit
                    split = (terms, [])  # if not: rare together, FTS5 finds them
                if not found:
                    ids_query = self._news_filter(
                        ids_query,
                        **options,
                        drive=not self._walk_newest(s, split[0], scoped=scoped),
                        split=split,
                    )
                    ids_query = ids_query.order_by(*self._newest_first()).offset(offset)
                    ids = [int(i) for i in s.exec(ids_query.limit(limit)).all()]
            rows = s.exec(
                select(NewsItem, Village.name, Village.kecamatan_code)
                .join(Village, col(Village.code) == col(NewsItem.village_code))
                .where(col(NewsItem.id).in_(ids))
            ).all()
        position: dict[int | None, int] = {i: n for n, i in enumerate(ids)}
        rows = sorted(rows, key=lambda r: position[r[0].id])
        return [
            {
                "village_code": n.village_code,
                "village_name": vname,
                "kecamatan_code": kcode,
                "title": n.title,
                "url": n.url,
                "published_at": iso(n.published_at),
                "category": n.category,
                "summary": n.summary,
                "thumbnail": n.thumbnail,
                "first_seen": iso(n.first_seen),
                "source": n.source,
            }
            for n, vname, kcode in rows
        ]

    def count_news(
        self,
        *,
        kecamatan: str | None = None,
        village: str | None = None,
        q: str | None = None,
        category: str | None = None,
        include_spam: bool = False,
        cap: int | None = None,
    ) -> int:
        """How many items `news()` would page through with the same filters; with `cap`,
        counting stops past it (the answer is then cap + 1: "more than cap")."""
        query = select(col(NewsItem.id))
        if kecamatan:
            query = query.join(Village, col(Village.code) == col(NewsItem.village_code))
        with Session(self.engine) as s:
            split = None
            if self.engine.dialect.name == "sqlite":
                split = self._sqlite_split(s, q)
                if cap is not None and split[1] and not split[0] and not (kecamatan or village):
                    # Only common words: the newest items hold enough matches (or not).
                    walked = self._count(s, query, cap, kecamatan, village, q, category,
                                         include_spam, split, window=cap * 4)  # fmt: skip
                    if walked > cap:
                        return walked
                    split = (split[1], [])
            else:  # words in most items are tested on the rows the others find
                terms = search_terms((q or "").replace("\x00", ""))
                dense = [t for t in terms if self._pg_dense(s, t)]
                split = ([t for t in terms if t not in dense], dense)
            return self._count(s, query, cap, kecamatan, village, q, category, include_spam, split)

    def _count(
        self,
        s: Session,
        query: Any,
        cap: int | None,
        kecamatan: str | None,
        village: str | None,
        q: str | None,
        category: str | None,
        include_spam: bool,
        split: tuple[list[str], list[str]] | None,
        window: int | None = None,
    ) -> int:
        options: dict[str, Any] = {"kecamatan": kecamatan, "village": village, "category": category}
        counted = self._news_filter(query, **options, q=q, include_spam=include_spam, split=split)
        if window is not None and split is not None:
            # The newest `window` items in date order, tested as they come, until cap + 1.
            recent = self._news_filter(query, **options, q=None, include_spam=include_spam)
            recent = recent.add_columns(col(NewsItem.title), col(NewsItem.summary))
            newest = recent.order_by(*self._newest_first()).limit(window).subquery()
            counted = sa_select(newest.c.id).where(
                words_check(newest.c.title, newest.c.summary, split[1])
            )
        if cap is not None:
            counted = counted.limit(cap + 1)
        total = sa_select(func.count()).select_from(counted.subquery())
        return int(s.connection().execute(total).scalar_one())

    def news_categories(self, *, kecamatan: str | None = None) -> list[tuple[str, int]]:
        """Categories used by the (non-spam) news of a kecamatan, with counts, by name."""
        query = (
            select(NewsItem.category, func.count())
            .join(Village, col(Village.code) == col(NewsItem.village_code))
            .where(col(NewsItem.is_spam) == False, col(NewsItem.category).is_not(None))  # noqa: E712
        )
        if kecamatan:
            query = query.where(Village.kecamatan_code == kecamatan)
        with Session(self.engine) as s:
            rows = s.exec(query.group_by(NewsItem.category)).all()
        return sorted(((c, int(n)) for c, n in rows if c), key=lambda r: r[0].casefold())
