"""The kabupaten coaching board: every village's to-do list in one ranked, paged list.

One SQL statement per page. Every matching village's rank (its urgency, then its number of
to-dos) and code come from the village row alone: the newest yardstick collection's facts are
copied there when it is recorded, so the ever-growing history is never scanned, and the
villages with an open integrity finding are one set built once, not a query per row. The
matches are counted per rank, so only the villages of the ranks a page overlaps are sorted,
and only the page's own rows are joined to their wide columns (names, the stored report): a
deep page costs what the first one does. The order comes from columns alone (the most urgent
problem they reveal, then how many to-dos the collection listed, then the code), so a page is
ranked without reading any village's report.

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

from sqlalchemy import Engine, Integer, Select, and_, case, cast, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, Subquery
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
    page, matched = _page(_ranked(s, now, kecamatan, theme).cte("ranked"), engine, offset, limit)
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
        .order_by(*_board_order(page, engine))
    )
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    total = int(rows[0]["matched"]) if rows else 0
    villages = []
    for row in rows:
        todo = [i for i in village_items(row, now, s) if not theme or _in_theme(i, theme)]
        villages.append({**row, "items": todo})
    return BoardPage(villages, total)


def _page(ranked: CTE, engine: Engine, offset: int, limit: int) -> tuple[Subquery, Any]:
    """The page's keys in board order, and how many villages match.

    The villages are counted per rank first, with how many rank up to each (a few dozen
    rows): the page's villages are in the ranks it overlaps, so only those are sorted (by code
    within a rank), and the page starts as many rows into them as precede it there."""
    rank = ranked.c.board_rank
    buckets = (
        select(
            rank,
            func.count().label("n"),
            func.sum(func.count()).over(order_by=rank).label("upto"),
        )
        .group_by(rank)
        .cte("buckets")
    )
    b = buckets.c
    touched = select(buckets).where(b.upto > offset, b.upto - b.n < offset + limit).cte("touched")
    t = touched.c
    before = select(func.coalesce(func.min(t.upto - t.n), offset)).scalar_subquery()
    page = (
        select(ranked)
        .where(
            rank.between(
                select(func.min(t.board_rank)).scalar_subquery(),
                select(func.max(t.board_rank)).scalar_subquery(),
            )
        )
        .order_by(*_board_order(ranked, engine))
        .offset(cast(offset - before, Integer))
        .limit(limit)
        .subquery("page")
    )
    return page, cast(select(func.sum(b.n)).scalar_subquery(), Integer)


def _board_order(rows: Any, engine: Engine) -> tuple[Any, ...]:
    """Most urgent first, then most to-dos (both in `board_rank`), then by code."""
    code = rows.c.code
    if engine.dialect.name == "postgresql":
        # Codes are fixed-width digits and dots: byte order is every collation's order (and
        # SQLite's), and compares much faster than the database's default collation.
        code = code.collate("C")
    return rows.c.board_rank, code


def _ranked(s: CoachingSettings, now: datetime, kecamatan: str | None, theme: str) -> Select[Any]:
    """Every matching village's code and rank: its urgency (the most urgent problem its
    columns reveal) then its number of stored to-dos, most first, as one integer (one sort
    key is cheaper than two; a collection lists far fewer than RANK_STEP to-dos)."""
    stale = now - timedelta(days=s.news_days)
    v = Village
    v_code, v_url, v_post = col(v.code), col(v.url), col(v.last_post_at)
    https, cert_problem = col(v.https_offered), col(v.cert_problem)
    cert_days, domain_days = col(v.cert_days_left), col(v.domain_days_left)
    items = col(v.coaching_items)
    # The villages with an open finding: one set, built once by the database (a hashed
    # subplan on PostgreSQL, an ephemeral index on SQLite) and looked up by each row.
    open_finding = v_code.in_(
        select(col(Finding.village_code)).where(col(Finding.status) == "open")
    )
    no_site = v_url == ""
    quiet = or_(v_post.is_(None), v_post < stale)
    urgency = case(
        (or_(no_site, open_finding), 0),
        (or_(cert_problem == "expired", domain_days < 0), 1),
        (or_(and_(https.is_(True), cert_days <= s.cert_days), domain_days <= s.domain_days), 2),
        (and_(https.is_(True), cert_problem.is_not(None)), 3),
        (https.is_(False), 4),
        (items > 0, 5),
        (quiet, 9),
        else_=99,
    )
    # The fixed-width key first: the database sorts these rows, and reads them again to count.
    q: Select[Any] = select(
        (urgency * RANK_STEP - items).label("board_rank"), v_code.label("code")
    ).where(col(v.in_config))
    if kecamatan:  # a kecamatan's code, or a kabupaten's (every kecamatan under it)
        kec = col(Kecamatan.code)
        under = or_(kec == kecamatan, kec.startswith(kecamatan + ".", autoescape=True))
        q = q.where(col(v.kecamatan_code).in_(select(kec).where(under)))
    if theme == "aktivitas":
        q = q.where(or_(no_site, quiet))
    elif theme == "keterbukaan":
        q = q.where(~no_site, _has_theme("keterbukaan"))
    elif theme == "keamanan":
        q = q.where(~no_site, or_(_has_theme("keamanan"), open_finding))
    elif theme == "integritas":
        q = q.where(~no_site, open_finding)
    else:
        q = q.where(or_(no_site, quiet, open_finding, items > 0))
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
