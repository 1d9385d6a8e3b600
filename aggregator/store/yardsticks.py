"""The KIP and security yardsticks: which villages are due a collection, a collection
recorded with its expiry alert state, and the latest per village or per kecamatan.

A query about yardstick collections or their coaching goes here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from aggregator.alerts import AlertEvent
from aggregator.clock import iso
from aggregator.models import Village, YardstickCheck
from aggregator.store.base import StoreBase
from aggregator.store.summary import refresh_summary
from aggregator.yardsticks import ExpiryWatch, YardstickReport, check_expiry, expiry_alert_event
from aggregator.yardsticks.board import BOARD_FACTS, themes_field


def _watch(stored: int) -> ExpiryWatch:
    # Stored as threshold + 1 so that 0 can mean "nothing announced" (0 days is a threshold).
    return ExpiryWatch(stored - 1 if stored > 0 else None)


def _stored(watch: ExpiryWatch) -> int:
    return 0 if watch.alerted is None else watch.alerted + 1


class Yardsticks(StoreBase):
    """Reads and writes of yardstick collections."""

    def yardsticks_due(self, now: datetime, interval: float, limit: int) -> list[dict[str, Any]]:
        """Villages with a site whose yardsticks are older than `interval` seconds."""
        cutoff = now - timedelta(seconds=interval)
        with Session(self.engine) as s:
            rows = s.exec(
                select(Village)
                .where(col(Village.in_config), Village.url != "", Village.last_check_ok == True)  # noqa: E712
                .where(
                    or_(
                        col(Village.yardsticks_checked_at).is_(None),
                        col(Village.yardsticks_checked_at) < cutoff,
                    )
                )
                .order_by(col(Village.yardsticks_checked_at))
                .limit(limit)
            ).all()
            return [
                {
                    "code": v.code,
                    "name": v.name,
                    "url": v.url,
                    "platform": v.detected_platform,
                    "version": v.platform_version,
                }
                for v in rows
            ]

    def record_yardsticks(
        self, code: str, report: YardstickReport, now: datetime
    ) -> list[AlertEvent]:
        """Store one collection; returns the expiry alerts it crossed (each fires once)."""
        columns = report.columns()
        events: list[AlertEvent] = []
        with self._write_lock, Session(self.engine) as s:
            v = s.get(Village, code)
            if v is None:
                return events
            s.add(
                YardstickCheck(
                    village_code=code,
                    checked_at=now,
                    report=json.dumps(report.as_json(), ensure_ascii=False, default=str),
                    **columns,
                )
            )
            v.kip_score, v.security_score = columns["kip_score"], columns["security_score"]
            v.yardsticks_checked_at = now
            for name in BOARD_FACTS:  # what the kabupaten board ranks by
                setattr(v, name, columns[name])
            v.coaching_themes = themes_field(item.theme for item in report.coaching)
            checks = (
                ("certificate", columns["cert_days_left"], "cert_alerted"),
                ("domain", columns["domain_days_left"], "domain_alerted"),
            )
            for subject, days, attr in checks:
                watch, event = check_expiry(subject, days, _watch(getattr(v, attr)), name=v.url)
                setattr(v, attr, _stored(watch))
                if event is not None:
                    events.append(
                        expiry_alert_event(
                            event, village_code=code, village_name=v.name, url=v.url, at=now
                        )
                    )
            s.add(v)
            s.commit()
            refresh_summary(self.engine)
        return events

    def latest_yardsticks(self, code: str) -> dict[str, Any] | None:
        """The newest collection's full report (scores with reasons, items, coaching)."""
        with Session(self.engine) as s:
            row = s.exec(
                select(YardstickCheck)
                .where(YardstickCheck.village_code == code)
                .order_by(col(YardstickCheck.checked_at).desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            report: dict[str, Any] = json.loads(row.report)
            report["checked_at"] = iso(row.checked_at)
            return report

    def coaching_rows(
        self, kecamatan: str | None = None, *, village: str | None = None
    ) -> list[dict[str, Any]]:
        """Every coaching item of every village (of a kecamatan, or just one village), most
        urgent first per village."""
        with Session(self.engine) as s:
            q = select(Village).where(col(Village.in_config))
            if kecamatan:
                q = q.where(Village.kecamatan_code == kecamatan)
            if village:
                q = q.where(Village.code == village)
            villages = s.exec(q.order_by(col(Village.code))).all()
        out = []
        for v in villages:
            report = self.latest_yardsticks(v.code)
            for i, item in enumerate((report or {}).get("coaching", []), start=1):
                out.append(
                    {
                        "village_code": v.code,
                        "village_name": v.name,
                        "rank": i,
                        "theme": item.get("theme"),
                        "text": item.get("text"),
                        "why": item.get("why"),
                        "url": item.get("url"),
                        "kip_score": v.kip_score,
                        "security_score": v.security_score,
                    }
                )
        return out
