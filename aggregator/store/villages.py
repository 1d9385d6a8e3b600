"""Villages and kecamatan as the pages and the JSON API read them: the village list and
detail, the attention list, uptime, services and metrics per village.

A read about villages or kecamatan (other than the kecamatan roll-ups of
`aggregator.store.summary`) goes here; writes to a village row belong to the part that
owns the change (schedule, polls, findings, scores, yardsticks).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from aggregator.clock import iso
from aggregator.decide.scoring import service_state
from aggregator.decide.status import ATTENTION_STATUSES
from aggregator.models import Check, Finding, Kecamatan, MetricSample, Service, Village
from aggregator.store.base import StoreBase
from aggregator.store.findings import finding_dicts, open_counts

# The village columns `village_dict` reads, and the select of them with the kecamatan's
# name: lists of villages read these columns, not ORM entities (an entity of ~50 columns
# per row was a fifth of the national overview's time for its 250 attention rows).
_DICT_COLUMNS = [
    col(getattr(Village, name))
    for name in (
        "code", "name", "type", "kecamatan_code", "url", "detected_platform", "platform",
        "platform_version", "status", "status_since", "score", "kip_score", "security_score",
        "last_post_at", "last_checked_at", "last_check_ok", "last_error_phase",
        "last_error_message", "failing_since", "consecutive_failures", "next_check_at",
        "news_count", "posts_30d", "last_success_at", "feed_url",
    )
]  # fmt: skip


def _village_rows() -> Any:
    """Villages in the config with the columns of `village_dict` and `kecamatan_name`."""
    return (
        sa_select(*_DICT_COLUMNS, col(Kecamatan.name).label("kecamatan_name"))
        .join(Kecamatan, col(Kecamatan.code) == col(Village.kecamatan_code))
        .where(col(Village.in_config))
    )


def village_dict(v: Any, kec_name: str, open_findings: int) -> dict[str, Any]:
    """A village as pages and the API show it, from its row (entity or the columns of
    `_DICT_COLUMNS`)."""
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


def service_dict(sv: Any, now: datetime) -> dict[str, Any]:
    """A service observation as pages and the API show it, from its row (entity or columns)."""
    return {
        "available": sv.available,
        "state": service_state(sv.available, sv.count, sv.last_date, now, sv.error),
        "count": sv.count,
        "last_date": iso(sv.last_date),
        "url": sv.url,
        "checked_at": iso(sv.checked_at),
        "error": sv.error,
    }


class Villages(StoreBase):
    """Reads of villages and kecamatan."""

    def list_villages(
        self, *, kecamatan: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        q = _village_rows()
        if kecamatan:
            q = q.where(col(Village.kecamatan_code) == kecamatan)
        if status:
            q = q.where(col(Village.status) == status)
        with Session(self.engine) as s:
            rows = s.connection().execute(q.order_by(col(Village.code))).all()
            findings = open_counts(s, [r.code for r in rows] if kecamatan else None)
        return [village_dict(r, r.kecamatan_name, findings[r.code]) for r in rows]

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
            findings = finding_dicts(s, village=code)
            out = village_dict(v, kname, sum(f["status"] == "open" for f in findings))
            out["score_components"] = json.loads(v.score_components or "{}").get("components", [])
            out["score_penalty"] = json.loads(v.score_components or "{}").get("penalty")
            out["scored_at"] = iso(v.scored_at)
            out["integrity_checked_at"] = iso(v.integrity_checked_at)
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
            out["services"] = [{"kind": sv.kind, **service_dict(sv, now)} for sv in services]
            out["findings"] = findings
        return out

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
        rows: list[Any] = []
        with Session(self.engine) as s:
            conn = s.connection()
            per_status = (
                counts
                if counts is not None
                else dict(conn.execute(base.group_by(col(v.status))).all())
            )
            per_status = {st: int(per_status.get(st, 0)) for st in ATTENTION_STATUSES}
            total = sum(int(n) for n in per_status.values())
            skip, want = offset, limit if limit is not None else total
            findings: dict[str, int] = {}
            for status in ATTENTION_STATUSES:
                n = int(per_status.get(status, 0))
                if want <= 0:
                    break
                if skip >= n:
                    skip -= n
                    continue
                page = conn.execute(
                    self._attention_rows(status, kecamatan, skip, min(want, n - skip))
                ).all()
                if status == "compromised":  # ranked by them: read with the page
                    findings.update((r.code, int(r.open_findings)) for r in page)
                rows.extend(page)
                want -= len(page)
                skip = 0
            rest = [r.code for r in rows if r.code not in findings]
            if rest:
                findings.update(open_counts(s, rest))
        return [village_dict(r, r.kecamatan_name, findings.get(r.code, 0)) for r in rows], total

    def _attention_rows(self, status: str, kecamatan: str | None, skip: int, take: int) -> Any:
        """The rows of one status's slice of the attention list, in its order: the slice's
        codes ranked over narrow rows (a national status has thousands of villages to
        rank), joined to their columns in one query. Compromised villages are ranked by
        their open findings, counted in one grouped pass (a count per village was two
        thirds of the ranking on PostgreSQL)."""
        v = Village
        score = func.coalesce(col(v.score), 0.0)
        where = [col(v.in_config), col(v.status) == status]
        if kecamatan:
            where.append(col(v.kecamatan_code) == kecamatan)
        ranked: Any = sa_select(col(v.code).label("code"))
        if status == "compromised":
            open_now = (
                sa_select(col(Finding.village_code).label("code"), func.count().label("n"))
                .where(col(Finding.status) == "open")
                .group_by(col(Finding.village_code))
                .subquery("open_now")
            )
            first: Any = func.coalesce(open_now.c.n, 0)
            ranked = ranked.outerjoin(open_now, open_now.c.code == col(v.code))
        else:
            first = col(v.failing_since if status == "unreachable" else v.last_post_at)
        keys = (first.label("k0"), score.label("k1"))
        page = (
            ranked.add_columns(*keys)
            .where(*where)
            .order_by(*self._attention_order(status, first, score, col(v.code)))
            .offset(skip)
            .limit(take)
            .subquery("ranked")
        )
        rows = _village_rows().join(page, page.c.code == col(v.code))
        if status == "compromised":
            rows = rows.add_columns(page.c.k0.label("open_findings"))
        return rows.order_by(*self._attention_order(status, page.c.k0, page.c.k1, page.c.code))

    def _attention_order(self, status: str, first: Any, score: Any, code: Any) -> tuple[Any, ...]:
        """The attention order of one status: open findings, most first (compromised);
        failing since or last post, longest ago first and never (NULL) before all; then
        lower score, then code."""
        if status == "compromised":
            return (first.desc(), score, code)
        if self.engine.dialect.name == "sqlite":  # NULLs first already: the index's order
            return (first.asc(), score, code)
        return (first.asc().nulls_first(), score, code)

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
            col(Service.error),
        )
        if kecamatan:
            query = query.join(Village, col(Village.code) == col(Service.village_code)).where(
                col(Village.kecamatan_code) == kecamatan
            )
        out: dict[str, dict[str, dict[str, Any]]] = {}
        with Session(self.engine) as s:
            rows = s.connection().execute(query).all()  # sqlmodel's select takes 4 columns
            now = datetime.now(UTC)
            for row in rows:
                out.setdefault(row.village_code, {})[row.kind] = service_dict(row, now)
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

    def kecamatan(self, code: str) -> dict[str, Any] | None:
        with Session(self.engine) as s:
            k = s.get(Kecamatan, code)
            return {"code": k.code, "name": k.name} if k else None

    def kecamatan_names(self) -> list[tuple[str, str]]:
        """(code, name) of every kecamatan in the config, by code."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Kecamatan.code, Kecamatan.name)
                .where(col(Kecamatan.in_config))
                .order_by(col(Kecamatan.code))
            ).all()
        return [(code, name) for code, name in rows]

    def kecamatan_choices(
        self, selected: str | None, most: int
    ) -> tuple[list[tuple[str, str]] | None, str | None]:
        """A kecamatan filter's choices: (code, name) of every kecamatan in the config, by
        code, while there are at most `most` (None past that: the filter takes a code), and
        the selected one's name. Reads `most` + 1 rows however many kecamatan there are."""
        kec, in_config = col(Kecamatan.code), col(Kecamatan.in_config)
        with Session(self.engine) as s:
            rows = [
                (code, name)
                for code, name in s.exec(
                    select(kec, Kecamatan.name).where(in_config).order_by(kec).limit(most + 1)
                ).all()
            ]
            if len(rows) <= most:
                return rows, dict(rows).get(selected or "")
            name = None
            if selected:
                name = s.exec(select(Kecamatan.name).where(kec == selected, in_config)).first()
        return None, name

    def kecamatan_codes(self) -> set[str]:
        with Session(self.engine) as s:
            return set(s.exec(select(Kecamatan.code)).all())

    def village_kecamatan(self, code: str) -> str | None:
        with Session(self.engine) as s:
            kec: str | None = s.exec(
                select(Village.kecamatan_code).where(Village.code == code)
            ).first()
            return kec

    def validators_json(self, code: str) -> dict[str, Any]:
        with Session(self.engine) as s:
            v = s.get(Village, code)
            return json.loads(v.validators) if v else {}
