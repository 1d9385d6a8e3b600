"""Read side of the store: the queries behind the pages and the JSON API.

Mixed into `Store`; returns plain dicts shaped like the API contract (README, "JSON API").
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from aggregator.models import (
    Check,
    Finding,
    Kecamatan,
    KecamatanSnapshot,
    MetricSample,
    NewsItem,
    Service,
    Village,
)
from aggregator.status import STATUSES


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ReadQueries:
    engine: Engine

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
            out["services"] = [
                {
                    "kind": sv.kind,
                    "available": sv.available,
                    "count": sv.count,
                    "last_date": iso(sv.last_date),
                    "url": sv.url,
                    "checked_at": iso(sv.checked_at),
                }
                for sv in services
            ]
            out["findings"] = findings
        return out

    @staticmethod
    def _news_filter(
        query: Any,
        *,
        kecamatan: str | None,
        village: str | None,
        q: str | None,
        category: str | None,
        include_spam: bool,
    ) -> Any:
        if not include_spam:
            query = query.where(~col(NewsItem.is_spam))
        if kecamatan:
            query = query.where(Village.kecamatan_code == kecamatan)
        if village:
            query = query.where(NewsItem.village_code == village)
        if category:
            query = query.where(NewsItem.category == category)
        if q:
            pattern = _like(q)
            query = query.where(
                col(NewsItem.title).ilike(pattern, escape="\\")
                | col(NewsItem.summary).ilike(pattern, escape="\\")
            )
        return query

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
        query = select(NewsItem, Village.name, Village.kecamatan_code).join(
            Village, col(Village.code) == col(NewsItem.village_code)
        )
        query = self._news_filter(
            query,
            kecamatan=kecamatan,
            village=village,
            q=q,
            category=category,
            include_spam=include_spam,
        )
        query = (
            query.order_by(col(NewsItem.published_at).desc().nulls_last(), col(NewsItem.id).desc())
            .offset(offset)
            .limit(limit)
        )
        with Session(self.engine) as s:
            rows = s.exec(query).all()
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
    ) -> int:
        """How many items `news()` would page through with the same filters."""
        query = select(func.count(col(NewsItem.id))).join(
            Village, col(Village.code) == col(NewsItem.village_code)
        )
        query = self._news_filter(
            query,
            kecamatan=kecamatan,
            village=village,
            q=q,
            category=category,
            include_spam=include_spam,
        )
        with Session(self.engine) as s:
            return int(s.exec(query).one())

    def news_categories(self, *, kecamatan: str | None = None) -> list[tuple[str, int]]:
        """Categories used by the (non-spam) news of a kecamatan, with counts, by name."""
        query = (
            select(NewsItem.category, func.count())
            .join(Village, col(Village.code) == col(NewsItem.village_code))
            .where(~col(NewsItem.is_spam), col(NewsItem.category).is_not(None))
        )
        if kecamatan:
            query = query.where(Village.kecamatan_code == kecamatan)
        with Session(self.engine) as s:
            rows = s.exec(query.group_by(NewsItem.category)).all()
        return sorted(((c, int(n)) for c, n in rows if c), key=lambda r: r[0].casefold())

    def village_uptime(
        self, since: datetime, *, kecamatan: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """Per village: (checks, successful checks) since `since`, from the raw checks."""
        query = select(
            Check.village_code, func.count(), func.sum(case((col(Check.ok), 1), else_=0))
        ).where(col(Check.started_at) >= since)
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
            for code, kind, available, count, last_date, url, checked_at in rows:
                out.setdefault(code, {})[kind] = {
                    "available": available,
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

    def district_history(
        self, first_day: date, *, kecamatan: str | None = None
    ) -> list[dict[str, Any]]:
        """Daily village counts per status summed over kecamatan (or one), from `first_day`."""
        query = (
            select(KecamatanSnapshot)
            .join(Kecamatan, col(Kecamatan.code) == col(KecamatanSnapshot.kecamatan_code))
            .where(col(Kecamatan.in_config), col(KecamatanSnapshot.day) >= first_day)
        )
        if kecamatan:
            query = query.where(KecamatanSnapshot.kecamatan_code == kecamatan)
        by_day: dict[date, dict[str, Any]] = {}
        means: dict[date, dict[str, list[tuple[float, int]]]] = {}
        with Session(self.engine) as s:
            for snap in s.exec(query).all():
                entry = by_day.setdefault(
                    snap.day, {"villages": 0, "counts": dict.fromkeys(STATUSES, 0), "ready": 0}
                )
                entry["villages"] += snap.villages
                entry["ready"] += int(snap.ready)
                for status, n in json.loads(snap.counts or "{}").items():
                    entry["counts"][status] = entry["counts"].get(status, 0) + int(n)
                day_means = means.setdefault(snap.day, {})
                for key in ("mean_score", "mean_kip", "mean_security"):
                    value = getattr(snap, key)
                    if value is not None:  # weighted by the kecamatan's villages
                        day_means.setdefault(key, []).append((value, snap.villages))
        for day, entry in by_day.items():
            for key in ("mean_score", "mean_kip", "mean_security"):
                pairs = means.get(day, {}).get(key, [])
                weight = sum(w for _, w in pairs)
                entry[key] = round(sum(v * w for v, w in pairs) / weight, 1) if weight else None
        return [{"day": day.isoformat(), **by_day[day]} for day in sorted(by_day)]

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

    def kecamatan_overview(self) -> list[dict[str, Any]]:
        """Each kecamatan with village counts per status and whether it is Sipande-ready."""
        with Session(self.engine) as s:
            kecs = s.exec(
                select(Kecamatan).where(col(Kecamatan.in_config)).order_by(col(Kecamatan.code))
            ).all()
            counts = s.exec(
                select(
                    Village.kecamatan_code,
                    Village.status,
                    func.count(),
                    func.max(Village.last_post_at),
                )
                .where(col(Village.in_config))
                .group_by(Village.kecamatan_code, Village.status)
            ).all()
        by_kec: dict[str, dict[str, Any]] = {
            k.code: {
                "code": k.code,
                "name": k.name,
                "total": 0,
                "counts": dict.fromkeys(STATUSES, 0),
                "last_post_at": None,
            }
            for k in kecs
        }
        for kcode, status, n, last in counts:
            entry = by_kec.get(kcode)
            if entry is None:
                continue
            entry["total"] += n
            entry["counts"][status] = entry["counts"].get(status, 0) + n
            if last and (entry["last_post_at"] is None or last > entry["last_post_at"]):
                entry["last_post_at"] = last
        for entry in by_kec.values():
            with_site = entry["total"] - entry["counts"]["no_site"]
            entry["ready"] = with_site > 0 and entry["counts"]["active"] == with_site
            entry["last_post_at"] = iso(entry["last_post_at"])
        return list(by_kec.values())

    def kecamatan(self, code: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            k = s.get(Kecamatan, code)
            return {"code": k.code, "name": k.name} if k else None

    def validators_json(self, code: str) -> dict[str, Any]:
        with Session(self.engine) as s:
            v = s.get(Village, code)
            return json.loads(v.validators) if v else {}
