"""Kecamatan roll-ups: per kecamatan in the config its villages, counts per status, mean
yardsticks over villages with a site, "siap Sipande" and newest post, plus the kabupaten
total; one grouped query, cached for a while at province or national scale.

A query that sums villages up per kecamatan or for the whole kabupaten goes here.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sqlalchemy import String, and_, case, func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from aggregator.clock import iso_stored
from aggregator.decide.status import STATUSES, is_ready
from aggregator.models import Kecamatan, Village
from aggregator.settings import Settings
from aggregator.store.base import DEFAULT_DATABASE_URL, StoreBase


class Summary(StoreBase):
    """The kecamatan roll-ups, with their cache."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, settings: Settings | None = None):
        super().__init__(url, settings)
        # (monotonic time, summary) of the last large summary (see SUMMARY_CACHE_FROM).
        self._summary_cache: tuple[float, dict[str, Any]] | None = None

    # Past this many villages (a province, the whole country) the kecamatan summary is
    # kept for SUMMARY_TTL seconds: one grouped pass over 84,000 villages costs ~100 ms.
    SUMMARY_CACHE_FROM = 5_000
    SUMMARY_TTL = 30.0

    def kecamatan_summary(self) -> dict[str, Any]:
        """Per kecamatan in the config: villages, counts per status, mean yardsticks over
        villages with a site, readiness and newest post; plus the kabupaten total."""
        cached = self._summary_cache
        if cached is not None and time.monotonic() - cached[0] < self.SUMMARY_TTL:
            return copy.deepcopy(cached[1])
        summary = self._kecamatan_summary()
        if summary["kabupaten"]["villages"] > self.SUMMARY_CACHE_FROM:
            self._summary_cache = (time.monotonic(), copy.deepcopy(summary))
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
                # The two other yardsticks, side by side with the activity score.
                "mean_kip": mean(2),
                "mean_security": mean(4),
                "ready": is_ready(with_site, int(site_active or 0)),
                "last_post_at": iso_stored(row[width]) if len(row) > width else None,
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

    def forget_summary(self) -> None:
        """Drop the cached summary (the next read counts again)."""
        self._summary_cache = None
