"""Kecamatan roll-ups: per kecamatan in the config its villages, counts per status, mean
yardsticks over villages with a site, "siap Sipande" and newest post, plus the kabupaten
total.

The numbers are kept in `KecamatanSummary`, one row per kecamatan, so that a page reads
7,000 rows at national scale instead of grouping 84,000 villages. Database triggers on the
village table mark a kecamatan in `KecamatanDirty` in the transaction that changes one of
its villages; `refresh_summary` (called by the writers after they commit: polls, scoring,
config sync, status refresh) rewrites the marked rows from their villages and removes the
marks. A reader counts a still-marked kecamatan from its villages, so a page is never stale
whichever write path changed a village.

A query that sums villages up per kecamatan or for the whole kabupaten goes here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from aggregator.clock import iso_stored
from aggregator.decide.status import ATTENTION_STATUSES, STATUSES, is_ready
from aggregator.models import Kecamatan, KecamatanDirty, KecamatanSummary, Village
from aggregator.store.base import StoreBase

# Past this many marked kecamatan, the whole summary is counted again in one pass.
RECOUNT_ALL_FROM = 1_000
SUMMARY_EVERY = 1.0  # seconds between the poll writer's summary refreshes
_K = KecamatanSummary
# The summary's columns, in the order of `_village_groups`' columns.
_COLUMNS = (
    col(_K.kecamatan_code),
    col(_K.villages),
    col(_K.with_site),
    col(_K.site_active),
    *[getattr(_K, f"n_{s}") for s in STATUSES],
    col(_K.score_sum),
    col(_K.score_n),
    col(_K.kip_sum),
    col(_K.kip_n),
    col(_K.security_sum),
    col(_K.security_n),
    col(_K.last_post_at),
)


def _village_groups(codes: Sequence[str] | None) -> Any:
    """One grouped pass over the villages in the config (of the kecamatan `codes`, or all):
    the summary's columns per kecamatan."""
    v = Village
    site = col(v.url) != ""

    def n_where(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    def on_site(column: Any) -> tuple[Any, Any]:
        known = and_(site, column.is_not(None))
        return func.sum(case((known, column), else_=0.0)), n_where(known)

    query = sa_select(
        col(v.kecamatan_code),
        func.count(),
        n_where(site),
        n_where(and_(site, col(v.status) == "active")),
        *[n_where(col(v.status) == st) for st in STATUSES],
        *on_site(col(v.score)),
        *on_site(col(v.kip_score)),
        *on_site(col(v.security_score)),
        # As stored (SQLite: text), converted for the few shown: 7,000 are not.
        func.max(type_coerce(col(v.last_post_at), String)),
    ).where(col(v.in_config))
    if codes is not None:
        query = query.where(col(v.kecamatan_code).in_(list(codes)))
    return query.group_by(col(v.kecamatan_code))


def _current_groups(conn: Connection) -> Any:
    """The summary's columns per kecamatan as a subquery: the stored row, or for a marked
    kecamatan its villages counted now (past RECOUNT_ALL_FROM marks, every kecamatan, as
    `refresh_summary` would write them). The marks are read before the rows: a mark
    removed in between means its row is already new; an unmarked summary is read as
    stored, without a pass over villages."""
    marked = sorted(
        set(conn.execute(sa_select(col(KecamatanDirty.kecamatan_code)).distinct()).scalars())
    )
    stored = sa_select(
        *_COLUMNS[:-1], type_coerce(col(_K.last_post_at), String).label("last_post_at")
    )
    if not marked:
        return stored.subquery("groups")
    codes = None if len(marked) >= RECOUNT_ALL_FROM else marked
    if codes is None:
        return _village_groups(None).subquery("groups")
    live = _village_groups(codes)
    return union_all(stored.where(col(_K.kecamatan_code).not_in(codes)), live).subquery("groups")


def _in_config(groups: Any, *columns: Any) -> Any:
    """Each kecamatan in the config (its code, then `columns`) joined to its summary
    columns `groups` (`_current_groups`; NULL for a kecamatan without villages)."""
    k = Kecamatan
    return (
        sa_select(col(k.code), *columns)
        .select_from(k)
        .outerjoin(groups, groups.c.kecamatan_code == col(k.code))
        .where(col(k.in_config))
    )


def _lock_refresh(conn: Connection) -> None:
    """On PostgreSQL one refresh at a time (a transaction-scoped advisory lock): each one's
    count then starts after every earlier refresh committed."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(727171)"))


def refresh_summary(engine: Engine) -> int:
    """Rewrite the summary rows of the marked kecamatan from their villages; returns how
    many kecamatan were marked. Call it after committing village changes.

    The marks are deleted first, then the villages counted: a village change committed
    before its mark was deleted is in the count (a later statement sees it), one committed
    after it left its own mark for the next refresh."""
    d = KecamatanDirty
    with engine.begin() as conn:
        _lock_refresh(conn)
        if conn.dialect.name == "sqlite":  # one writer: nothing commits in between
            codes = set(conn.execute(sa_select(col(d.kecamatan_code)).distinct()).scalars())
            conn.execute(delete(d))
        else:
            codes = set(conn.execute(delete(d).returning(col(d.kecamatan_code))).scalars())
        if not codes:
            return 0
        which = None if len(codes) >= RECOUNT_ALL_FROM else sorted(codes)
        gone = delete(_K)
        if which is not None:
            gone = gone.where(col(_K.kecamatan_code).in_(which))
        conn.execute(gone)
        conn.execute(insert(_K).from_select([c.key for c in _COLUMNS], _village_groups(which)))
    return len(codes)


_N = len(STATUSES)


def _mean(total: Any, n: Any) -> float | None:
    return round(float(total) / int(n), 1) if n else None


@lru_cache(maxsize=65_536)
def _iso(value: Any) -> str | None:
    """`iso_stored`, remembered: 7,000 kecamatan's newest posts are converted on every
    overview, and most are the same from one to the next."""
    return iso_stored(value)


def _ready(row: Sequence[Any]) -> bool:
    """Siap Sipande, from a summary row's villages with a site and those of them active."""
    return is_ready(int(row[1] or 0), int(row[2] or 0))


# The statuses by position, for `_roll`'s literal dict (a comprehension over STATUSES cost
# as much again); unpacking fails loudly if their number changes.
_S0, _S1, _S2, _S3, _S4, _S5 = STATUSES


def _roll(row: Sequence[Any], *, last: bool = True, **head: Any) -> dict[str, Any]:
    """One kecamatan's (or the kabupaten's) entry from the summary's columns after the
    code (sums and counts), the newest post last (left out without `last`), after the
    `head` keys. Written out: the JSON API rolls 7,000 rows per request (4.0 -> 2.5 µs a
    row)."""
    villages, with_site, active, c0, c1, c2, c3, c4, c5, ss, sn, ks, kn, xs, xn = row[:_WIDTH]
    with_site = int(with_site or 0)
    entry = {
        **head,
        "villages": int(villages),
        "with_site": with_site,
        "counts": {
            _S0: int(c0 or 0),
            _S1: int(c1 or 0),
            _S2: int(c2 or 0),
            _S3: int(c3 or 0),
            _S4: int(c4 or 0),
            _S5: int(c5 or 0),
        },
        "mean_score": _mean(ss, sn),
        # The two other yardsticks, side by side with the activity score.
        "mean_kip": _mean(ks, kn),
        "mean_security": _mean(xs, xn),
        "ready": is_ready(with_site, int(active or 0)),
    }
    if last:
        newest = row[_WIDTH]
        entry["last_post_at"] = _iso(newest) if newest is not None else None
    return entry


_WIDTH = 3 + _N + 6  # the summary's columns after the code, before the newest post
_STATUS_AT = {status: 3 + i for i, status in enumerate(STATUSES)}


class KecamatanRow(Mapping[str, Any]):
    """One kecamatan's summary entry (the keys of `_roll` plus code and name), rolled on
    the first read of a key that needs it; code, name, villages, readiness and the count
    of one status are read straight from the row."""

    __slots__ = ("_group", "_rolled", "code", "name")

    def __init__(self, code: str, name: str, group: Sequence[Any]) -> None:
        self.code, self.name, self._group = code, name, group
        self._rolled: dict[str, Any] | None = None

    def count(self, status: str) -> int:
        return int(self._group[_STATUS_AT[status]] or 0)

    @property
    def ready(self) -> bool:
        return _ready(self._group)

    def rollup(self) -> dict[str, Any]:
        """The entry without its newest post, as a new dict (the JSON API's row)."""
        return _roll(self._group, last=False, code=self.code, name=self.name)

    def as_dict(self) -> dict[str, Any]:
        """The whole entry as a plain dict (a copy: `dict(row)` would read it key by key)."""
        return dict(self._entry())

    def _entry(self) -> dict[str, Any]:
        if self._rolled is None:
            self._rolled = _roll(self._group, code=self.code, name=self.name)
        return self._rolled

    def __getitem__(self, key: str) -> Any:
        if key == "code":
            return self.code
        if key == "name":
            return self.name
        if key == "villages":
            return int(self._group[0])
        return self._entry()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entry())

    def __len__(self) -> int:
        return len(self._entry())


_PROBLEMS = itemgetter(*(_STATUS_AT[s] for s in ATTENTION_STATUSES))


def worst_first(rows: list[KecamatanRow]) -> None:
    """Sort kecamatan rows in place, most compromised villages first, then unreachable,
    inactive and low activity; ties in code order. One tuple per row straight from its
    stored counts: the national overview sorts 7,000 rows on every view."""
    rows.sort(key=lambda r: r.code)
    rows.sort(key=lambda r: _PROBLEMS(r._group), reverse=True)  # stable: codes stay in order


class SummaryWriter(StoreBase):
    """A part of the store whose writes change what the kecamatan summary counts."""

    _summary_refreshed = float("-inf")  # monotonic time of the last throttled refresh

    def refresh_summary_now_and_then(self) -> None:
        """The kecamatan summary after a write, at most every SUMMARY_EVERY seconds: a pass
        writes many small batches (and first scores), and each refresh recounts whole
        kecamatan. A reader counts a kecamatan still marked from its villages, so a page
        shows the writes in between all the same."""
        now = time.monotonic()
        if now - self._summary_refreshed >= SUMMARY_EVERY:
            self._summary_refreshed = now
            refresh_summary(self.engine)


class Summary(StoreBase):
    """The kecamatan roll-ups."""

    def refresh_summary(self) -> int:
        """Bring the marked kecamatan's summary rows up to date (see `refresh_summary`)."""
        return refresh_summary(self.engine)

    def _summary_rows(self, conn: Connection) -> dict[str, tuple[Any, ...]]:
        """Per kecamatan with villages in the config, the summary's columns after the code
        (`_current_groups`: the stored row, or a marked kecamatan's villages counted now)."""
        groups = _current_groups(conn)
        return {row[0]: tuple(row[1:]) for row in conn.execute(sa_select(groups)).all()}

    def kecamatan_summary_rows(self) -> tuple[list[KecamatanRow], dict[str, Any]]:
        """`kecamatan_summary` with each kecamatan's row rolled only when read (the
        national overview lists 7,000 kecamatan, sorts them by their counts and shows 50)."""
        with Session(self.engine) as s:
            conn = s.connection()
            kecs = conn.execute(
                sa_select(col(Kecamatan.code), col(Kecamatan.name))
                .where(col(Kecamatan.in_config))
                .order_by(col(Kecamatan.code))
            ).all()
            groups = self._summary_rows(conn)
        none = (0,) * _WIDTH + (None,)
        kecamatan = [KecamatanRow(c, n, groups.get(c, none)) for c, n in kecs]
        # The kabupaten: column sums over every group (villages of any kecamatan).
        columns = list(zip(*groups.values(), strict=True))[:_WIDTH] or [()] * _WIDTH
        total_row = [sum(filter(None, column)) for column in columns]
        lasts = [g[_WIDTH] for g in groups.values() if g[_WIDTH] is not None]
        kabupaten = _roll((*total_row, max(lasts) if lasts else None))
        kabupaten["ready_kecamatan"] = sum(1 for k in kecamatan if k.ready)
        return kecamatan, kabupaten

    def kabupaten_totals(self) -> dict[str, Any]:
        """The kabupaten's entry of `kecamatan_summary_rows` (sums over every kecamatan,
        `ready_kecamatan`) plus `kecamatan` (how many are in the config) and `kabupaten`
        (the codes of their kabupaten), added up in the database: at national scale the
        overview shows 50 of 7,000 kecamatan and need not read them all."""
        with Session(self.engine) as s:
            conn = s.connection()
            g = _current_groups(conn)
            sums = [func.coalesce(func.sum(c), 0) for c in list(g.c)[1:-1]]
            listed = _in_config(g, g.c.with_site, g.c.site_active).subquery()
            # `is_ready` (decide.status) in SQL: villages with a site, all of them active.
            ready = func.sum(
                case((and_(listed.c.with_site > 0, listed.c.site_active == listed.c.with_site), 1))
            )
            row = conn.execute(sa_select(*sums, func.max(g.c.last_post_at))).one()
            # Per kabupaten (the code's first two parts): its kecamatan and the ready ones.
            prefix = func.substr(listed.c.code, 1, 5)
            per_kabupaten = conn.execute(
                sa_select(prefix, func.count(), ready).group_by(prefix)
            ).all()
        total = _roll(tuple(row))
        total.update(
            ready_kecamatan=sum(int(r or 0) for _, _, r in per_kabupaten),
            kecamatan=sum(int(n) for _, n, _ in per_kabupaten),
            kabupaten={code for code, _, _ in per_kabupaten},
        )
        return total

    def kecamatan_page(
        self, *, search: str = "", sort: str = "kode", offset: int = 0, limit: int = 50
    ) -> tuple[list[KecamatanRow], int]:
        """One page of the kecamatan in the config and how many match: those whose name
        holds `search` (case aside) or whose code starts with it; sorted by code, by name
        ("nama") or worst first ("masalah", as `worst_first`). Sorted, filtered and paged
        in the database."""
        k = Kecamatan
        matches: list[Any] = []  # beside being in the config
        if search:
            matches.append(
                or_(
                    func.lower(col(k.name)).contains(search.casefold(), autoescape=True),
                    col(k.code).startswith(search, autoescape=True),
                )
            )
        order: list[Any] = []
        with Session(self.engine) as s:
            conn = s.connection()
            g = _current_groups(conn)
            if sort == "masalah":
                order = [func.coalesce(g.c[f"n_{st}"], 0).desc() for st in ATTENTION_STATUSES]
            elif sort == "nama":
                order = [func.lower(col(k.name))]
            columns = [func.coalesce(c, 0) for c in list(g.c)[1:-1]]
            query = (
                _in_config(g, col(k.name), *columns, g.c.last_post_at)
                .where(*matches)
                .order_by(*order, col(k.code))
                .offset(offset)
                .limit(limit)
            )
            rows = conn.execute(query).all()
            matched = conn.execute(
                sa_select(func.count()).select_from(k).where(col(k.in_config), *matches)
            )
            n = int(matched.scalar_one())
        return [KecamatanRow(r[0], r[1], tuple(r[2:])) for r in rows], n

    def kecamatan_summary(self) -> dict[str, Any]:
        """Per kecamatan in the config: villages, counts per status, mean yardsticks over
        villages with a site, readiness and newest post; plus the kabupaten total."""
        kecamatan, kabupaten = self.kecamatan_summary_rows()
        return {"kabupaten": kabupaten, "kecamatan": [k.as_dict() for k in kecamatan]}

    def kecamatan_rollups(self) -> dict[str, Any]:
        """Per kecamatan: counts per status, mean score, readiness; plus the kabupaten total
        (the JSON API's /api/kecamatan; 7,000 rows at national scale, each built once)."""
        kecamatan, kabupaten = self.kecamatan_summary_rows()
        kabupaten.pop("last_post_at")
        return {"kabupaten": kabupaten, "kecamatan": [k.rollup() for k in kecamatan]}

    def kecamatan_overview(self) -> list[dict[str, Any]]:
        """Each kecamatan with village counts per status and whether it is siap Sipande."""
        return [
            {
                "code": k["code"],
                "name": k["name"],
                "total": k["villages"],
                "counts": k["counts"],
                "last_post_at": k["last_post_at"],
                "ready": k["ready"],
            }
            for k in self.kecamatan_summary()["kecamatan"]
        ]
