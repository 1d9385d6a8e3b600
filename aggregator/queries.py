"""Read side of the store: the queries behind the pages and the JSON API.

Mixed into `Store`; returns plain dicts shaped like the API contract (README, "JSON API").
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    table,
    text,
    type_coerce,
)
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from aggregator.models import (
    NEWS_FTS_TABLE,
    NEWS_SEARCH_COLUMN,
    Check,
    Finding,
    Kecamatan,
    KecamatanSnapshot,
    MetricSample,
    NewsItem,
    Service,
    Village,
)
from aggregator.scoring import service_state
from aggregator.status import STATUSES

# A search is at most this many words (each one a prefix), all of which must occur.
MAX_SEARCH_TERMS = 8
_WORD = re.compile(r"[^\W_]+")
# The "needs attention" statuses, most urgent first (issue 5).
ATTENTION_STATUSES = ("compromised", "unreachable", "inactive", "low_activity")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _iso_stored(value: Any) -> str | None:
    """ISO text of a UTC timestamp as the database returned it (datetime or SQLite text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).isoformat())


def search_terms(q: str) -> list[str]:
    """The words of a search box: letters and digits only, so whatever the user typed
    (quotes, `*`, `NEAR(`, `%`...) never reaches the full-text query syntax."""
    return [w.casefold() for w in _WORD.findall(q)][:MAX_SEARCH_TERMS]


def fts5_query(terms: list[str]) -> str:
    """SQLite FTS5: every word as a quoted prefix term (`"posyandu"* AND "desa"*`)."""
    return " AND ".join(f'"{t}"*' for t in terms)


def tsquery(terms: list[str]) -> str:
    """PostgreSQL to_tsquery: every word as a quoted prefix lexeme (`'posyandu':* & ...`)."""
    return " & ".join(f"'{t}':*" for t in terms)


_FTS = table(NEWS_FTS_TABLE, sa_column("rowid"))
# PostgreSQL's generated tsvector column (migration 0009), not a model field.
_SEARCH_VECTOR: ColumnElement[Any] = literal_column(f"newsitem.{NEWS_SEARCH_COLUMN}")


def _pg_match(vector: Any, terms: list[str]) -> ColumnElement[bool]:
    return vector.op("@@")(  # type: ignore[no-any-return]
        func.to_tsquery(literal_column("'simple'"), tsquery(terms))
    )


class ReadQueries:
    engine: Engine
    _history_cache: dict[tuple[Any, ...], list[dict[str, Any]]]
    _cache_lock = threading.Lock()

    def _open_findings(self, s: Session, codes: list[str] | None = None) -> Counter[str]:
        q = select(Finding.village_code, func.count()).where(Finding.status == "open")
        if codes is not None:
            q = q.where(col(Finding.village_code).in_(codes))
        return Counter(dict(s.exec(q.group_by(Finding.village_code)).all()))

    @staticmethod
    def _village_dict(v: Village, kec_name: str, open_findings: int) -> dict[str, Any]:
        return {
            "code": v.code,
            "name": v.name,
            "type": v.type,
            "kecamatan_code": v.kecamatan_code,
            "kecamatan_name": kec_name,
            "url": v.url or None,
            "platform": v.detected_platform or v.platform,
            "platform_version": v.platform_version,
            "status": v.status,
            "status_since": iso(v.status_since),
            "score": v.score,
            "kip_score": v.kip_score,
            "security_score": v.security_score,
            "last_post_at": iso(v.last_post_at),
            "last_checked_at": iso(v.last_checked_at),
            "last_check_ok": v.last_check_ok,
            "last_error_phase": v.last_error_phase,
            "last_error_message": v.last_error_message,
            "failing_since": iso(v.failing_since),
            "consecutive_failures": v.consecutive_failures,
            "next_check_at": iso(v.next_check_at),
            "news_count": v.news_count,
            "posts_30d": v.posts_30d,
            "last_success_at": iso(v.last_success_at),
            "feed_url": v.feed_url,
            "open_findings": open_findings,
        }

    def list_villages(
        self, *, kecamatan: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        q = (
            select(Village, Kecamatan.name)
            .join(Kecamatan, col(Kecamatan.code) == col(Village.kecamatan_code))
            .where(col(Village.in_config))
        )
        if kecamatan:
            q = q.where(Village.kecamatan_code == kecamatan)
        if status:
            q = q.where(Village.status == status)
        with Session(self.engine) as s:
            rows = s.exec(q.order_by(col(Village.code))).all()
            findings = self._open_findings(s, [v.code for v, _ in rows] if kecamatan else None)
        return [self._village_dict(v, kname, findings[v.code]) for v, kname in rows]

    def village_detail(self, code: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            row = s.exec(
                select(Village, Kecamatan.name)
                .join(Kecamatan, col(Kecamatan.code) == col(Village.kecamatan_code))
                .where(Village.code == code)
            ).first()
            if row is None:
                return None
            v, kname = row
            findings = self.findings(village=code)
            out = self._village_dict(v, kname, sum(f["status"] == "open" for f in findings))
            out["score_components"] = json.loads(v.score_components or "{}").get("components", [])
            out["score_penalty"] = json.loads(v.score_components or "{}").get("penalty")
            out["scored_at"] = iso(v.scored_at)
            checks = s.exec(
                select(Check)
                .where(Check.village_code == code)
                .order_by(col(Check.started_at).desc(), col(Check.id).desc())
                .limit(20)
            ).all()
            out["recent_checks"] = [
                {
                    "started_at": iso(c.started_at),
                    "ok": c.ok,
                    "duration_ms": c.duration_ms,
                    "phase": c.phase,
                    "status_code": c.status_code,
                    "message": c.message,
                    "url": c.url,
                    "bytes": c.bytes,
                    "changed": c.changed,
                    "new_items": c.new_items,
                }
                for c in checks
            ]
            latest = (
                select(MetricSample.name, func.max(MetricSample.at).label("at"))
                .where(MetricSample.village_code == code)
                .group_by(MetricSample.name)
                .subquery()
            )
            metrics = s.exec(
                select(MetricSample)
                .join(
                    latest,
                    (col(MetricSample.name) == latest.c.name)
                    & (col(MetricSample.at) == latest.c.at),
                )
                .where(MetricSample.village_code == code)
            ).all()
            out["metrics"] = {m.name: {"value": m.value, "at": iso(m.at)} for m in metrics}
            services = s.exec(select(Service).where(Service.village_code == code)).all()
            now = datetime.now(UTC)
            out["services"] = [
                {
                    "kind": sv.kind,
                    "available": sv.available,
                    "state": service_state(sv.available, sv.count, sv.last_date, now),
                    "count": sv.count,
                    "last_date": iso(sv.last_date),
                    "url": sv.url,
                    "checked_at": iso(sv.checked_at),
                }
                for sv in services
            ]
            out["findings"] = findings
        return out

    def _search_clause(self, q: str, *, drive: bool = True) -> ColumnElement[bool]:
        """Word/prefix match on title and summary with the database's full-text index; a
        query without any word (only `%`, `"`...) falls back to a substring match.

        On SQLite the matches either drive the query (few of them) or, with `drive` False,
        are only a membership test (`id + 0` is no index key), so SQLite starts from the
        village's news or walks the date index instead of sorting every match."""
        terms = search_terms(q)
        dialect = self.engine.dialect.name
        if terms and dialect == "sqlite":
            matches = sa_select(_FTS.c.rowid).where(
                literal_column(NEWS_FTS_TABLE).op("MATCH")(fts5_query(terms))
            )
            return (col(NewsItem.id) if drive else col(NewsItem.id) + 0).in_(matches)
        if terms and dialect == "postgresql":
            return _pg_match(_SEARCH_VECTOR, terms)
        pattern = _like(q)
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
                self._search_clause(q, drive=drive and not kecamatan and not village)
            )
        return query

    # Past this many full-text matches, SQLite finds the newest ones faster by walking the
    # date index and testing each item against the matches than by sorting all matches.
    WALK_NEWEST_FROM = 5_000

    def _walk_newest(self, s: Session, q: str | None, *, scoped: bool) -> bool:
        """Whether SQLite should page a kabupaten-wide search in date-index order."""
        terms = search_terms((q or "").replace("\x00", ""))
        if scoped or not terms or self.engine.dialect.name != "sqlite":
            return False
        matches = (
            sa_select(func.count())
            .select_from(_FTS)
            .where(literal_column(NEWS_FTS_TABLE).op("MATCH")(fts5_query(terms)))
        )
        return int(s.connection().execute(matches).scalar_one()) > self.WALK_NEWEST_FROM

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

    def _pg_search_ids(
        self, s: Session, base: Any, terms: list[str], offset: int, limit: int, *, scoped: bool
    ) -> list[int]:
        """The ids of one page of a PostgreSQL search, newest first. `base` selects (id,
        published_at) with every filter but the words.

        Left to itself the planner guesses how many items match and then either sorts all
        matches or walks the date index until it has a page; a wrong guess walked all two
        million items for a word found nowhere (20 s). So the plan is chosen here, and each
        step is bounded: (1) walk a few thousand newest items (a common word fills its page
        within a few hundred); (2) if that did not fill the page, the word is rare among
        recent news: fetch its matches through the GIN index (MATERIALIZED: the planner
        cannot turn it back into a walk) and sort them. A village or kecamatan has few
        enough items that step 2 alone is right."""
        if limit <= 0:
            return []
        if not scoped:
            wanted = (offset + limit) * self.PG_WALK_PER_ROW
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
        matches = base.where(_pg_match(_SEARCH_VECTOR, terms)).cte("matches")
        matches = matches.prefix_with("MATERIALIZED")
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
                ids_query = self._news_filter(
                    ids_query,
                    kecamatan=kecamatan,
                    village=village,
                    q=q,
                    category=category,
                    include_spam=include_spam,
                    drive=not self._walk_newest(s, q, scoped=bool(kecamatan or village)),
                )
                ids_query = ids_query.order_by(*self._newest_first()).offset(offset).limit(limit)
                ids = [int(i) for i in s.exec(ids_query).all()]
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
        query = self._news_filter(
            query,
            kecamatan=kecamatan,
            village=village,
            q=q,
            category=category,
            include_spam=include_spam,
        )
        if cap is not None:
            query = query.limit(cap + 1)
        counted = sa_select(func.count()).select_from(query.subquery())
        with Session(self.engine) as s:
            return int(s.connection().execute(counted).scalar_one())

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

    def village_uptime(
        self, since: datetime, *, kecamatan: str | None = None, village: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """Per village: (checks, successful checks) since `since`, from the raw checks."""
        query = select(
            Check.village_code, func.count(), func.sum(case((col(Check.ok), 1), else_=0))
        ).where(col(Check.started_at) >= since)
        if village:
            query = query.where(Check.village_code == village)
        if kecamatan:
            query = query.join(Village, col(Village.code) == col(Check.village_code)).where(
                Village.kecamatan_code == kecamatan
            )
        with Session(self.engine) as s:
            rows = s.exec(query.group_by(Check.village_code)).all()
        return {code: (int(n), int(ok or 0)) for code, n, ok in rows}

    def services_by_village(
        self, *, kecamatan: str | None = None
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """village code -> service kind -> what was last observed."""
        # Columns, not entities: a kecamatan has hundreds of rows and this runs per page view.
        query = sa_select(
            col(Service.village_code),
            col(Service.kind),
            col(Service.available),
            col(Service.count),
            col(Service.last_date),
            col(Service.url),
            col(Service.checked_at),
        )
        if kecamatan:
            query = query.join(Village, col(Village.code) == col(Service.village_code)).where(
                col(Village.kecamatan_code) == kecamatan
            )
        out: dict[str, dict[str, dict[str, Any]]] = {}
        with Session(self.engine) as s:
            rows = s.connection().execute(query).all()  # sqlmodel's select takes 4 columns
            now = datetime.now(UTC)
            for code, kind, available, count, last_date, url, checked_at in rows:
                out.setdefault(code, {})[kind] = {
                    "available": available,
                    "state": service_state(available, count, last_date, now),
                    "count": count,
                    "last_date": iso(last_date),
                    "url": url,
                    "checked_at": iso(checked_at),
                }
        return out

    def metric_series(self, code: str, since: datetime) -> dict[str, list[tuple[str, float]]]:
        """Every metric sample of one village since `since`: name -> [(iso time, value)]."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(MetricSample.name, MetricSample.at, MetricSample.value)
                .where(MetricSample.village_code == code, col(MetricSample.at) >= since)
                .order_by(col(MetricSample.at))
            ).all()
        out: dict[str, list[tuple[str, float]]] = {}
        for name, at, value in rows:
            if at is not None:
                out.setdefault(name, []).append((at.isoformat(), float(value)))
        return out

    def _history_query(self, first_day: date, last_day: date | None, kecamatan: str | None) -> Any:
        """Per day: villages, ready kecamatan, counts per status and village-weighted
        means, summed in the database (630,000 roll-ups for 90 days of 7,000 kecamatan)."""
        k = KecamatanSnapshot
        if self.engine.dialect.name == "postgresql":
            counts = cast(col(k.counts), JSONB)

            def count_of(status: str) -> Any:
                return func.coalesce(cast(counts[status].astext, Integer), 0)

        else:

            def count_of(status: str) -> Any:
                return func.coalesce(func.json_extract(col(k.counts), f"$.{status}"), 0)

        def weighted(column: Any) -> tuple[Any, Any]:
            known = case((column.is_not(None), col(k.villages)), else_=0)
            return func.sum(column * col(k.villages)), func.sum(known)

        query = (
            sa_select(
                col(k.day),
                func.sum(col(k.villages)),
                func.sum(case((col(k.ready), 1), else_=0)),
                *[func.sum(count_of(st)) for st in STATUSES],
                *weighted(col(k.mean_score)),
                *weighted(col(k.mean_kip)),
                *weighted(col(k.mean_security)),
            )
            .join(Kecamatan, col(Kecamatan.code) == col(k.kecamatan_code))
            .where(col(Kecamatan.in_config), col(k.day) >= first_day)
            .group_by(col(k.day))
        )
        if last_day is not None:
            query = query.where(col(k.day) < last_day)
        if kecamatan:
            query = query.where(col(k.kecamatan_code) == kecamatan)
        return query

    @staticmethod
    def _history_entry(row: Any) -> dict[str, Any]:
        day, villages, ready, *rest = row
        counts = {st: int(n or 0) for st, n in zip(STATUSES, rest, strict=False)}
        means = rest[len(STATUSES) :]
        out: dict[str, Any] = {
            "day": (day if isinstance(day, date) else date.fromisoformat(day)).isoformat(),
            "villages": int(villages or 0),
            "counts": counts,
            "ready": int(ready or 0),
        }
        for i, key in enumerate(("mean_score", "mean_kip", "mean_security")):
            total, weight = means[2 * i], means[2 * i + 1]
            out[key] = round(float(total) / int(weight), 1) if weight else None
        return out

    def district_history(
        self, first_day: date, *, kecamatan: str | None = None
    ) -> list[dict[str, Any]]:
        """Daily village counts per status summed over kecamatan (or one), from `first_day`.

        Days before the newest are only written once (the scoring run rewrites today's
        roll-ups), so for the whole kabupaten they are kept in memory while the table's
        newest day and highest id stay the same; the newest day is always read afresh."""
        with Session(self.engine) as s:
            conn = s.connection()
            if kecamatan:
                rows = conn.execute(self._history_query(first_day, None, kecamatan)).all()
                return sorted((self._history_entry(r) for r in rows), key=lambda e: e["day"])
            k = KecamatanSnapshot
            # Two queries: each maximum is then one step down its index.
            newest = conn.execute(sa_select(func.max(col(k.day)))).scalar_one()
            top = conn.execute(sa_select(func.max(col(k.id)))).scalar_one()
            if newest is None:
                return []
            newest = newest if isinstance(newest, date) else date.fromisoformat(newest)
            key = (first_day, newest, top)
            cache = self.__dict__.setdefault("_history_cache", {})
            past = cache.get(key)
            if past is None:
                rows = conn.execute(self._history_query(first_day, newest, None)).all()
                past = [self._history_entry(r) for r in rows]
                with self._cache_lock:
                    cache.clear()  # one key is current at a time
                    cache[key] = past
            today = conn.execute(
                self._history_query(max(first_day, newest), None, None).where(col(k.day) == newest)
            ).all()
        return sorted([*past, *map(self._history_entry, today)], key=lambda e: e["day"])

    def findings(
        self, *, status: str | None = None, village: str | None = None
    ) -> list[dict[str, Any]]:
        q = select(Finding)
        if status:
            q = q.where(Finding.status == status)
        if village:
            q = q.where(Finding.village_code == village)
        with Session(self.engine) as s:
            rows = s.exec(q.order_by(col(Finding.last_seen).desc())).all()
        return [
            {
                "village_code": f.village_code,
                "kind": f.kind,
                "url": f.url,
                "evidence": f.evidence,
                "first_seen": iso(f.first_seen),
                "last_seen": iso(f.last_seen),
                "status": f.status,
            }
            for f in rows
        ]

    # Past this many villages (a province, the whole country) the kecamatan summary is
    # kept for SUMMARY_TTL seconds: one grouped pass over 84,000 villages costs ~100 ms.
    SUMMARY_CACHE_FROM = 5_000
    SUMMARY_TTL = 30.0

    def kecamatan_summary(self) -> dict[str, Any]:
        """Per kecamatan in the config: villages, counts per status, mean yardsticks over
        villages with a site, readiness and newest post; plus the kabupaten total."""
        cached = self.__dict__.get("_summary_cache")
        if cached is not None and time.monotonic() - cached[0] < self.SUMMARY_TTL:
            return copy.deepcopy(cached[1])
        summary = self._kecamatan_summary()
        if summary["kabupaten"]["villages"] > self.SUMMARY_CACHE_FROM:
            self.__dict__["_summary_cache"] = (time.monotonic(), copy.deepcopy(summary))
        return summary

    def _kecamatan_summary(self) -> dict[str, Any]:
        """One grouped query (84,000 villages at national scale), nothing loaded per village."""
        v = Village
        site = col(v.url) != ""

        def n_where(cond: Any) -> Any:
            return func.sum(case((cond, 1), else_=0))

        def on_site(column: Any) -> tuple[Any, Any]:
            known = and_(site, column.is_not(None))
            return func.sum(case((known, column), else_=0.0)), n_where(known)

        query = (
            sa_select(
                col(v.kecamatan_code),
                func.count(),
                n_where(site),
                n_where(and_(site, col(v.status) == "active")),
                *[n_where(col(v.status) == st) for st in STATUSES],
                *on_site(col(v.score)),
                *on_site(col(v.kip_score)),
                *on_site(col(v.security_score)),
                # As stored (SQLite: text), converted for the few shown: 84,000 are not.
                func.max(type_coerce(col(v.last_post_at), String)),
            )
            .where(col(v.in_config))
            .group_by(col(v.kecamatan_code))
        )
        with Session(self.engine) as s:
            conn = s.connection()
            kecs = conn.execute(
                sa_select(col(Kecamatan.code), col(Kecamatan.name))
                .where(col(Kecamatan.in_config))
                .order_by(col(Kecamatan.code))
            ).all()
            groups = {row[0]: row[1:] for row in conn.execute(query).all()}
        width = 3 + len(STATUSES) + 6

        def roll(row: Any) -> dict[str, Any]:
            villages, with_site, site_active, *rest = row[:width]
            counts = [int(n or 0) for n in rest[: len(STATUSES)]]
            sums = rest[len(STATUSES) :]

            def mean(i: int) -> float | None:
                return round(float(sums[i]) / int(sums[i + 1]), 1) if sums[i + 1] else None

            with_site = int(with_site or 0)
            return {
                "villages": int(villages),
                "with_site": with_site,
                "counts": dict(zip(STATUSES, counts, strict=True)),
                "mean_score": mean(0),
                # The two other yardsticks, side by side with the activity score (issue 10).
                "mean_kip": mean(2),
                "mean_security": mean(4),
                "ready": with_site > 0 and int(site_active or 0) == with_site,
                "last_post_at": _iso_stored(row[width]) if len(row) > width else None,
            }

        none = (0,) * width
        kecamatan = [{"code": c, "name": n, **roll(groups.get(c, none))} for c, n in kecs]
        # The kabupaten: column sums over every group (villages of any kecamatan).
        total_row = [sum(g[i] or 0 for g in groups.values()) for i in range(width)]
        lasts = [g[width] for g in groups.values() if g[width] is not None]
        kabupaten = roll((*total_row, max(lasts) if lasts else None))
        kabupaten["ready_kecamatan"] = sum(1 for k in kecamatan if k["ready"])
        return {"kabupaten": kabupaten, "kecamatan": kecamatan}

    def kecamatan_rollups(self) -> dict[str, Any]:
        """Per kecamatan: counts per status, mean score, readiness; plus the kabupaten total
        (the JSON API's /api/kecamatan)."""
        summary = self.kecamatan_summary()
        for entry in [summary["kabupaten"], *summary["kecamatan"]]:
            entry.pop("last_post_at")
        return summary

    def kecamatan_overview(self) -> list[dict[str, Any]]:
        """Each kecamatan with village counts per status and whether it is Sipande-ready."""
        out = []
        for k in self.kecamatan_summary()["kecamatan"]:
            with_site = k["villages"] - k["counts"]["no_site"]
            out.append(
                {
                    "code": k["code"],
                    "name": k["name"],
                    "total": k["villages"],
                    "counts": k["counts"],
                    "last_post_at": k["last_post_at"],
                    "ready": with_site > 0 and k["counts"]["active"] == with_site,
                }
            )
        return out

    def kecamatan_names(self) -> list[tuple[str, str]]:
        """(code, name) of every kecamatan in the config, by code."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Kecamatan.code, Kecamatan.name)
                .where(col(Kecamatan.in_config))
                .order_by(col(Kecamatan.code))
            ).all()
        return [(code, name) for code, name in rows]

    def attention_villages(
        self,
        *,
        kecamatan: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        counts: dict[str, int] | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Villages needing attention, most urgent first, one page of them and how many in
        all: compromised (most open findings first), unreachable (failing longest first),
        inactive, then low activity (silent longest first, never posted before all); ties
        by lower score, then code. Each status is read in its own order from the index.
        `counts` (villages per status, e.g. from kecamatan_summary) saves counting again."""
        v = Village
        base = sa_select(col(v.status), func.count()).where(
            col(v.in_config), col(v.status).in_(ATTENTION_STATUSES)
        )
        if kecamatan:
            base = base.where(col(v.kecamatan_code) == kecamatan)
        open_count = (
            sa_select(func.count())
            .where(col(Finding.village_code) == col(v.code), col(Finding.status) == "open")
            .correlate(v)
            .scalar_subquery()
        )
        rows: list[tuple[Village, str]] = []
        with Session(self.engine) as s:
            per_status = (
                counts
                if counts is not None
                else dict(s.connection().execute(base.group_by(col(v.status))).all())
            )
            per_status = {st: int(per_status.get(st, 0)) for st in ATTENTION_STATUSES}
            total = sum(int(n) for n in per_status.values())
            skip, want = offset, limit if limit is not None else total
            for status in ATTENTION_STATUSES:
                n = int(per_status.get(status, 0))
                if want <= 0:
                    break
                if skip >= n:
                    skip -= n
                    continue
                score = func.coalesce(col(v.score), 0.0)
                if status == "compromised":
                    order: tuple[Any, ...] = (open_count.desc(), score, col(v.code))
                else:
                    when = col(v.failing_since if status == "unreachable" else v.last_post_at)
                    order = (when.asc().nulls_first(), score, col(v.code))
                    if self.engine.dialect.name == "sqlite":  # NULLs first already: index
                        order = (when.asc(), score, col(v.code))
                q = (
                    select(Village, Kecamatan.name)
                    .join(Kecamatan, col(Kecamatan.code) == col(v.kecamatan_code))
                    .where(col(v.in_config), v.status == status)
                )
                if kecamatan:
                    q = q.where(v.kecamatan_code == kecamatan)
                page = s.exec(q.order_by(*order).offset(skip).limit(min(want, n - skip))).all()
                rows.extend(page)
                want -= len(page)
                skip = 0
            findings = self._open_findings(s, [vv.code for vv, _ in rows])
        return [self._village_dict(vv, kname, findings[vv.code]) for vv, kname in rows], total

    def kecamatan(self, code: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            k = s.get(Kecamatan, code)
            return {"code": k.code, "name": k.name} if k else None

    def validators_json(self, code: str) -> dict[str, Any]:
        with Session(self.engine) as s:
            v = s.get(Village, code)
            return json.loads(v.validators) if v else {}
