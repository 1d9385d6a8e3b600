"""A few days of yardstick history for bench_scale: one collection a day (the daily
yardsticks job) for the last YARDSTICK_DAYS days of every village with a site, and the
newest collection's facts copied onto the village row as `record_yardsticks` does.

Facts follow what a district of village sites shows: most offer HTTPS (a free certificate
renewed every 90 days, a few paid yearly ones), a few with an expired or otherwise invalid
certificate, some without HTTPS or without the redirect to it, domains that lapse now and
then, OpenSID sites some releases behind, and KIP documents often missing or stale. The
to-dos are the real coaching rules' (yardsticks.coaching) for those facts, so their number,
themes and report size are what the board reads in production. A collection's facts drift a
little from day to day (the certificate and domain count down).

The village facts go through a staging table and one UPDATE ... FROM, so a kept store is
topped up in seconds on either database (`add_yardsticks`), and the triggers that keep the
kecamatan summary and the board key see every changed row.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text

from aggregator.clock import wib_day
from aggregator.store import Store
from aggregator.yardsticks.board import themes_field
from aggregator.yardsticks.coaching import coaching_list
from aggregator.yardsticks.common import jsonable
from aggregator.yardsticks.kip import REQUIRED, KipFacts, RequiredItem
from aggregator.yardsticks.releases import VersionCheck
from aggregator.yardsticks.security import SecurityFacts

YARDSTICK_DAYS = 3
STAGING = "bench_yardstick_facts"
CHECK_COLS = (
    "village_code", "checked_at", "kip_score", "security_score", "https_offered",
    "https_enforced", "cert_days_left", "cert_problem", "domain_days_left", "opensid_behind",
    "ppid_documents", "coaching_items", "report",
)  # fmt: skip
FACT_COLS = (
    "code", "checked_at", "kip_score", "security_score", "https_offered", "cert_days_left",
    "cert_problem", "domain_days_left", "coaching_items", "coaching_themes",
)  # fmt: skip


class Loads(Protocol):
    """scale_store.Loader: bulk insert into one table."""

    sqlite: bool

    def load(self, table: str, cols: Any, rows: Iterator[tuple[Any, ...]]) -> int: ...


class _Site:
    """One village's site as the collections see it, counted down day by day."""

    def __init__(self, rnd: random.Random, url: str, platform: str) -> None:
        self.url = url
        self.https = rnd.choices((True, False, None), (75, 17, 8))[0]
        self.enforced = (rnd.random() < 0.6) if self.https else None
        problem = rnd.choices((None, "expired", "self_signed", "name_mismatch"), (93, 3, 2, 2))
        self.problem = problem[0] if self.https else None
        # Paid certificates last a year; free ones 90 days, renewed 30 days before the end
        # unless the renewal broke.
        if rnd.random() < 0.2:
            self.cert = rnd.randint(1, 365)
        else:
            self.cert = rnd.randint(30, 89) if rnd.random() < 0.9 else rnd.randint(-20, 29)
        self.cert = self.cert if self.https else None
        if self.problem == "expired" and self.cert is not None:
            self.cert = -rnd.randint(1, 60)
        self.domain = rnd.randint(-10, 365) if rnd.random() < 0.85 else None
        self.behind = rnd.choices((0, 1, 2, 4, 8), (30, 20, 20, 15, 15))[0]
        self.opensid = platform == "opensid"
        self.kip = {key: rnd.choices(("found", "stale", "missing"), (50, 20, 30))[0]
                    for key in REQUIRED}  # fmt: skip
        self.documents = rnd.choice((None, 0, 0, 3, 12))
        self.doc_age = rnd.uniform(10, 500)

    def report(self, at: datetime, days_ago: int) -> tuple[tuple[Any, ...], str]:
        """One collection's row (CHECK_COLS after the code) and its to-dos' themes."""
        cert = None if self.cert is None else self.cert + days_ago
        domain = None if self.domain is None else self.domain + days_ago
        name = self.url.split("//", 1)[-1].strip("/")
        behind = self.behind if self.opensid else None
        release = (
            VersionCheck("2306.0.0", "2306.0.0", "umum", "2601.0.0", "2601.0.0", behind, None)
            if behind is not None
            else None
        )
        security = SecurityFacts(
            has_site=True, https_offered=self.https, https_enforced=self.enforced,
            cert_problem=self.problem, cert_days_left=cert, domain=name, domain_days_left=domain,
            version=release,
        )  # fmt: skip
        year = wib_day(at).year
        items = tuple(
            RequiredItem(key, key, status, None, "Tidak ditemukan di situs")
            for key, status in self.kip.items()
        )
        kip = KipFacts(True, year, None, self.doc_age, None, items)
        todo = coaching_list(kip=kip, security=security)
        kip_score = round(100.0 * sum(s == "found" for s in self.kip.values()) / len(self.kip), 1)
        sec_score = round(
            (40.0 if self.https and not self.problem else 0.0)
            + (20.0 if self.enforced else 0.0)
            + (20.0 if domain is not None and domain > 60 else 0.0)
            + (20.0 if not behind or behind <= 3 else 0.0),
            1,
        )
        report = {
            "url": self.url,
            "checked_at": at.isoformat(),
            "coaching": jsonable(todo),
            "kip_score": {"score": kip_score, "components": []},
            "security_score": {"score": sec_score, "components": []},
            "notes": [],
        }
        row = (
            at, kip_score, sec_score, self.https, self.enforced, cert, self.problem, domain,
            behind, self.documents, len(todo), json.dumps(report, ensure_ascii=False),
        )  # fmt: skip
        return row, themes_field(i.theme for i in todo)


class Yardsticks:
    """The collection rows of every village with a site, and each one's newest facts."""

    def __init__(self, villages: list[tuple[str, str, str]], now: datetime, seed: int) -> None:
        self.villages = villages  # code, url, platform
        self.now = now
        self.seed = seed
        self.newest: list[tuple[Any, ...]] = []

    def check_rows(self) -> Iterator[tuple[Any, ...]]:
        rnd = random.Random(self.seed + 11)
        self.newest = []
        for code, url, platform in self.villages:
            if not url:
                continue
            site = _Site(rnd, url, platform)
            for d in range(YARDSTICK_DAYS - 1, -1, -1):
                at = self.now - timedelta(days=d, minutes=rnd.randint(30, 600))
                row, themes = site.report(at, d)
                yield (code, *row)
                if d == 0:  # FACT_COLS
                    at, kip, sec, https, _, cert, problem, domain, _, _, items, _ = row
                    self.newest.append(
                        (code, at, kip, sec, https, cert, problem, domain, items, themes)
                    )


def add_yardsticks(store: Store, loader: Loads, now: datetime, seed: int) -> int:
    """Load the yardstick history and copy each village's newest facts onto its row."""
    with store.engine.connect() as conn:
        villages = [
            (c, u, p)
            for c, u, p in conn.execute(
                text("SELECT code, url, platform FROM village ORDER BY code")
            )
        ]
    gen = Yardsticks(villages, now, seed)
    n = loader.load("yardstickcheck", CHECK_COLS, gen.check_rows())
    stamp = "TIMESTAMP" if loader.sqlite else "TIMESTAMP WITH TIME ZONE"
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
        conn.execute(
            text(
                f"CREATE TABLE {STAGING} (code VARCHAR(20) PRIMARY KEY, checked_at {stamp}, "
                "kip_score FLOAT, security_score FLOAT, https_offered BOOLEAN, "
                "cert_days_left INTEGER, cert_problem VARCHAR, domain_days_left INTEGER, "
                "coaching_items INTEGER, coaching_themes VARCHAR)"
            )
        )
    loader.load(STAGING, FACT_COLS, iter(gen.newest))
    copied = ", ".join(f"{c} = s.{c}" for c in FACT_COLS[2:])
    with store.engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE village SET yardsticks_checked_at = s.checked_at, {copied} "
                f"FROM {STAGING} AS s WHERE s.code = village.code"
            )
        )
        conn.execute(text(f"DROP TABLE {STAGING}"))
    store.refresh_summary()  # the scores moved: the triggers marked every kecamatan
    return n
