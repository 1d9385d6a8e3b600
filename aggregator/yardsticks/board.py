"""The kabupaten coaching board: every village's to-do list in one ranked, paged list.

One SQL statement per page, reading the page's own rows rather than ranking every village.
A village's rank (its urgency, then its number of to-dos) comes from its row alone: the
newest yardstick collection's facts are copied there when it is recorded, so the
ever-growing history is never scanned, and the rank's time-independent part is stored as
`village.board_key`, kept by triggers in the writing transaction (migration 0019: a village's
site and collection facts, and its open integrity findings). The one part that moves with
time, whether a village with nothing else to do has been quiet for `news_days`, is read
live, so the order is exact at any moment without a job keeping it. A page is then three
ranges of one index (see _page), and only the page's own rows are joined to their wide
columns (names, the stored report): a deep page costs about what the first one does.

A village's items are its stored KIP and security items plus what is known live: the news
cadence (activity) and the integrity findings open now (a stored integrity item of a cleaned
site is dropped, a new finding shows before the next collection).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery
from sqlmodel import col

from aggregator.decide.scoring import VillageFacts
from aggregator.models import Finding, Kecamatan, Village, YardstickCheck
from aggregator.yardsticks.coaching import (
    INTEGRITY_TEXT,
    CoachingItem,
    CoachingSettings,
    coaching_list,
    most_urgent_first,
)

# Filter keys (as in the page's query string) and their labels; "" is every theme.
BOARD_THEMES = {
    "aktivitas": "Aktivitas SID",
    "keterbukaan": "Keterbukaan Informasi",
    "keamanan": "Keamanan Digital",
    "integritas": "Integritas situs",
}
THEME_LABELS = {
    "sid": "Optimalisasi SID",
    "keterbukaan": "Keterbukaan Informasi",
    "keamanan": "Keamanan Digital",
}
RANK_STEP = 1_000_000  # a village's rank: its urgency times this, less its to-dos
UNRANKED = 99 * RANK_STEP  # the stored key of a village no stored fact ranks (no to-dos)
QUIET = 9 * RANK_STEP  # the rank of an UNRANKED village without a post for news_days
# The board's ranges (see _page) a filter can match: every village listed without a theme,
# and with "aktivitas", is urgent, has to-dos or is quiet (the third range is none of these);
# "integritas" lists only villages with an open finding, whose key is below UNRANKED.
RANGES_OF = {"": 2, "aktivitas": 2, "integritas": 1}
# A collection's columns copied onto its village when it is recorded (with themes_field).
BOARD_FACTS = (
    "https_offered",
    "cert_days_left",
    "cert_problem",
    "domain_days_left",
    "coaching_items",
)


@dataclass(frozen=True)
class BoardPage:
    villages: list[dict[str, Any]]  # each with "items": its to-dos, most urgent first
    total: int  # villages matching the filters (all pages)


def themes_field(themes: Iterable[str]) -> str:
    """`village.coaching_themes`: the to-dos' themes, sorted, each between commas."""
    names = sorted(set(themes))
    return f",{','.join(names)}," if names else ""


def _has_theme(theme: str) -> ColumnElement[bool]:
    return col_like(col(Village.coaching_themes), f",{theme},")


def col_like(column: Any, text: str) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    clause: ColumnElement[bool] = column.like(f"%{escaped}%", escape="\\")
    return clause


def board_page(
    engine: Engine,
    now: datetime,
    *,
    kecamatan: str | None = None,
    theme: str = "",
    offset: int = 0,
    limit: int = 50,
    settings: CoachingSettings | None = None,
) -> BoardPage:
    """One page of the board, most urgent village first."""
    s = settings or CoachingSettings()
    page, matched = _page(s, now, kecamatan, theme, offset, limit)
    yc = YardstickCheck
    q: Any = (
        select(
            col(Village.code),
            col(Village.name),
            col(Village.kecamatan_code),
            col(Kecamatan.name).label("kecamatan_name"),
            col(Village.url),
            col(Village.status),
            col(Village.last_post_at),
            col(Village.kip_score),
            col(Village.security_score),
            col(yc.report),
            exists()  # looked up for the page's rows only: the sorted rows stay narrow
            .where(col(Finding.village_code) == col(Village.code), col(Finding.status) == "open")
            .label("has_finding"),
            matched.label("matched"),
        )
        .select_from(page)
        .join(Village, col(Village.code) == page.c.code)
        .join(Kecamatan, col(Kecamatan.code) == col(Village.kecamatan_code))
        .outerjoin(
            yc,
            and_(
                col(yc.village_code) == col(Village.code),
                col(yc.checked_at) == col(Village.yardsticks_checked_at),
            ),
        )
        .order_by(*_board_order(page))
    )
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    total = int(rows[0]["matched"]) if rows else 0
    villages = []
    for row in rows:
        todo = [i for i in village_items(row, now, s) if not theme or _in_theme(i, theme)]
        villages.append({**row, "items": todo})
    return BoardPage(villages, total)


def _page(
    s: CoachingSettings, now: datetime, kecamatan: str | None, theme: str, offset: int, limit: int
) -> tuple[Subquery, Any]:
    """The page's codes and ranks in board order, and how many villages match.

    A village's rank is its stored `board_key` (triggers keep it, migration 0019), except
    that an UNRANKED village ranks QUIET while it has no post for `news_days`: the board is
    the villages ranked by key (by key, then code), then the quiet unranked ones, then the
    others (by code), three ranges of one index. The matches of each are counted, and each
    range is read from as many rows into it as the page starts past the ranges before it:
    a page reads its own rows, not every village's."""
    v = Village
    key, code, post = col(v.board_key), col(v.code), col(v.last_post_at)
    stale = now - timedelta(days=s.news_days)
    quiet = or_(post.is_(None), post < stale)
    matching = _matching(key, quiet, kecamatan, theme)
    by_key: Any = key
    by_code: Any = code
    if kecamatan:
        # A kecamatan's (or kabupaten's) few hundred villages at most: read them by the
        # kecamatan index and sorted, not by walking the board index past every other
        # village (terms and an order no index serves steer the planner away from it).
        by_key, by_code = key + 0, code.concat("")
    ranges: tuple[tuple[ColumnElement[bool], Any, tuple[Any, ...]], ...] = (
        (by_key < UNRANKED, key, (by_key, by_code)),
        (and_(by_key == UNRANKED, quiet), literal(QUIET), (by_code,)),
        (and_(by_key == UNRANKED, post >= stale), literal(UNRANKED), (by_code,)),
    )[: RANGES_OF.get(theme, 3)]
    counts = (
        select(
            *(
                func.coalesce(func.sum(case((where, 1), else_=0)), 0).label(f"n{i}")
                for i, (where, _, _) in enumerate(ranges)
            )
        )
        .where(*matching)
        .cte("counts")
    )
    n = [counts.c[f"n{i}"] for i in range(len(ranges))]
    parts = []
    for i, (where, rank, order) in enumerate(ranges):
        # A range the page starts after is not read at all (an empty one neither): a LIMIT
        # of 0, where an OFFSET past its end would walk all of it.
        before: Any = sum(n[:i], literal(0))
        skip = select(case((before < offset, offset - before), else_=0)).scalar_subquery()
        take = select(case((before + n[i] <= offset, 0), else_=limit)).scalar_subquery()
        part = (
            select(rank.label("board_rank"), code.label("code"))
            .where(*matching, where)
            .order_by(*order)
            .offset(cast(skip, Integer))
            .limit(cast(take, Integer))
            .subquery(f"range{i}")
        )
        parts.append(select(part))
    both = union_all(*parts).subquery("ranges")
    page = select(both).order_by(*_board_order(both)).limit(limit).subquery("page")
    return page, cast(select(sum(n[1:], n[0])).scalar_subquery(), Integer)


def _board_order(rows: Any) -> tuple[Any, ...]:
    """Most urgent first, then most to-dos (both in `board_rank`), then by code. Codes are
    fixed-width digits and dots: every collation orders them as bytes do (and the index)."""
    return rows.c.board_rank, rows.c.code


def _matching(
    key: Any, quiet: ColumnElement[bool], kecamatan: str | None, theme: str
) -> list[ColumnElement[bool]]:
    """The filters, read from the stored key where they can be: a key of zero or less is
    a village without a site or with an open integrity finding (the most urgent)."""
    v = Village
    url, items = col(v.url), col(v.coaching_items)
    no_site, urgent = url == "", key <= 0
    # The board index's first column; with a kecamatan, a term that index cannot serve (see
    # _page).
    q: list[ColumnElement[bool]] = [col(v.in_config) == true()]
    if kecamatan:  # a kecamatan's code, or a kabupaten's (every kecamatan under it)
        kec = col(Kecamatan.code)
        under = or_(kec == kecamatan, kec.startswith(kecamatan + ".", autoescape=True))
        q = [col(v.in_config).is_not(False), col(v.kecamatan_code).in_(select(kec).where(under))]
    if theme == "aktivitas":
        q.append(or_(no_site, quiet))
    elif theme == "keterbukaan":
        q += [~no_site, _has_theme("keterbukaan")]
    elif theme == "keamanan":
        q += [~no_site, or_(_has_theme("keamanan"), urgent)]
    elif theme == "integritas":
        q += [~no_site, urgent]
    else:
        q.append(or_(urgent, items > 0, quiet))
    return q


def _in_theme(item: CoachingItem, theme: str) -> bool:
    if theme == "aktivitas":
        return item.theme == "sid"
    if theme == "integritas":
        return item.key == "integrity"
    return item.theme == theme


def _stored_items(report: str | None) -> list[CoachingItem]:
    try:
        data = json.loads(report or "{}")
    except ValueError:
        return []
    out = []
    for raw in data.get("coaching") or []:
        if isinstance(raw, Mapping) and raw.get("key") and raw.get("text"):
            out.append(
                CoachingItem(
                    key=str(raw["key"]),
                    theme=str(raw.get("theme") or ""),
                    text=str(raw["text"]),
                    why=str(raw.get("why") or ""),
                    url=raw.get("url") if isinstance(raw.get("url"), str) else None,
                    days_left=raw.get("days_left")
                    if isinstance(raw.get("days_left"), int)
                    else None,
                )
            )
    return out


def village_items(
    row: Mapping[str, Any], now: datetime, settings: CoachingSettings
) -> tuple[CoachingItem, ...]:
    """The to-dos of one board row: stored KIP/security items, live integrity and news."""
    if not row["url"]:
        return coaching_list(has_site=False)
    stored = [i for i in _stored_items(row["report"]) if i.key != "integrity"]
    if row["has_finding"]:
        stored.append(
            CoachingItem(
                "integrity",
                "keamanan",
                INTEGRITY_TEXT,
                "Ada temuan integritas terbuka",
            )
        )
    last = row["last_post_at"]
    days = (now - last).total_seconds() / 86400 if last is not None else None
    facts = VillageFacts(
        has_site=True,
        compromised=bool(row["has_finding"]),
        days_since_post=days,
        posts_30d=0,
        checks=0,
        checks_ok=0,
    )
    return most_urgent_first(stored, coaching_list(activity=facts, settings=settings))


def export_rows(villages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per to-do, as the kecamatan list's export, with the kecamatan named."""
    out = []
    for v in villages:
        for rank, item in enumerate(v["items"], start=1):
            out.append(
                {
                    "village_code": v["code"],
                    "village_name": v["name"],
                    "kecamatan_name": v["kecamatan_name"],
                    "rank": rank,
                    "theme": THEME_LABELS.get(item.theme, item.theme),
                    "text": item.text,
                    "why": item.why,
                    "url": item.url,
                    "kip_score": v["kip_score"],
                    "security_score": v["security_score"],
                }
            )
    return out
