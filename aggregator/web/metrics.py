"""What /healthz and /metrics report, read from the store: checks by result and phase, their
durations, villages by status, the dispatcher's backlog and the age of the newest check.

The poller does not record its passes yet, so the newest Check.started_at stands in for
"last pass", and a backlog older than a dispatch tick plus a poll means the scheduler stalled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client.core import (
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import case, func, text
from sqlmodel import Session, col, select

from aggregator import __version__
from aggregator.clock import iso
from aggregator.decide.status import STATUSES
from aggregator.models import Check, Village
from aggregator.settings import Settings
from aggregator.store import Store

# Seconds; a poll is several requests, each bounded by request_timeout (20 s by default).
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


@dataclass(frozen=True)
class OpsSnapshot:
    checks: dict[tuple[str, str], int]  # (result, phase) -> checks stored
    buckets: list[int]  # checks with duration <= DURATION_BUCKETS[i], cumulative
    duration_count: int
    duration_sum_s: float
    villages: dict[str, int]  # status -> villages in the config
    overdue: int
    max_lateness_s: float
    last_check_at: datetime | None
    now: datetime

    @property
    def last_check_age_s(self) -> float | None:
        if self.last_check_at is None:
            return None
        return round(max(0.0, (self.now - self.last_check_at).total_seconds()), 1)


def read_snapshot(store: Store, now: datetime, *, checks: bool = True) -> OpsSnapshot:
    """One read of what the ops endpoints show. `checks=False` skips the two scans of the
    Check table (per result and phase, per duration bucket) that only /metrics needs."""
    by_phase: dict[tuple[str, str], int] = {}
    totals: list[int] = [0, 0, *([0] * len(DURATION_BUCKETS))]
    with Session(store.engine) as s:
        if checks:
            rows = s.exec(
                select(col(Check.ok), col(Check.phase), func.count()).group_by(
                    col(Check.ok), col(Check.phase)
                )
            ).all()
            for ok, phase, n in rows:
                key = ("ok" if ok else "failed", phase or "none")
                by_phase[key] = by_phase.get(key, 0) + int(n)
            thresholds = [
                func.coalesce(
                    func.sum(case((col(Check.duration_ms) <= int(b * 1000), 1), else_=0)), 0
                )
                for b in DURATION_BUCKETS
            ]
            row = s.exec(
                select(func.count(), func.coalesce(func.sum(Check.duration_ms), 0), *thresholds)
            ).one()
            totals = [int(n) for n in row]
        last = s.exec(select(func.max(Check.started_at))).one()  # started_at is indexed
        statuses = s.exec(
            select(Village.status, func.count())
            .where(col(Village.in_config))
            .group_by(Village.status)
        ).all()
    villages = dict.fromkeys(STATUSES, 0)
    for status, n in statuses:
        villages[status] = villages.get(status, 0) + int(n)
    backlog = store.overdue_stats(now)
    return OpsSnapshot(
        checks=by_phase,
        buckets=totals[2:],
        duration_count=totals[0],
        duration_sum_s=totals[1] / 1000,
        villages=villages,
        overdue=int(backlog["overdue"]),
        max_lateness_s=float(backlog["max_lateness_s"]),
        last_check_at=last,
        now=now,
    )


def ping(store: Store) -> None:
    """A trivial query: raises if the store cannot be reached."""
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def stall_threshold(settings: Settings) -> float:
    """Lateness beyond which due villages mean nobody is dispatching: one tick, one full poll
    (a connector makes up to three requests) and a minute of slack."""
    return settings.dispatch_interval * 2 + settings.request_timeout * 3 + 60.0


def scheduler_state(snapshot: OpsSnapshot, settings: Settings, running: bool | None) -> str:
    """ "running"/"stopped" when the process knows its scheduler, else inferred from the
    backlog: "ok" (nothing late) or "stalled" (villages overdue beyond stall_threshold)."""
    if running is not None:
        return "running" if running else "stopped"
    if snapshot.overdue and snapshot.max_lateness_s > stall_threshold(settings):
        return "stalled"
    return "ok"


def health_body(snapshot: OpsSnapshot, settings: Settings, running: bool | None) -> dict[str, Any]:
    return {
        "ok": True,
        "store": "ok",
        "overdue": snapshot.overdue,
        "max_lateness_s": snapshot.max_lateness_s,
        "scheduler": scheduler_state(snapshot, settings, running),
        "last_check_at": iso(snapshot.last_check_at),
        "last_pass_age_s": snapshot.last_check_age_s,
        "villages": snapshot.villages,
    }


class _Families(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def families(snapshot: OpsSnapshot | None) -> list[Metric]:
    """Metric families for a snapshot; with None (store unreachable) only the up gauges."""
    info = GaugeMetricFamily("sipande_info", "Sipande build information.", labels=["version"])
    info.add_metric([__version__], 1)
    up = GaugeMetricFamily("sipande_store_up", "1 if the store answered this scrape.")
    up.add_metric([], 0 if snapshot is None else 1)
    if snapshot is None:
        return [info, up]
    checks = GaugeMetricFamily(
        "sipande_checks_stored",
        "Polls kept in the store (raw history, keep_checks_days) by result and failed phase.",
        labels=["result", "phase"],
    )
    for (result, phase), n in sorted(snapshot.checks.items()):
        checks.add_metric([result, phase], n)
    durations = HistogramMetricFamily(
        "sipande_check_duration_seconds", "Duration of the polls kept in the store."
    )
    bounds = [(_le(b), float(n)) for b, n in zip(DURATION_BUCKETS, snapshot.buckets, strict=True)]
    bounds.append(("+Inf", float(snapshot.duration_count)))
    durations.add_metric([], bounds, snapshot.duration_sum_s)
    villages = GaugeMetricFamily(
        "sipande_villages", "Configured villages by status.", labels=["status"]
    )
    for status, n in snapshot.villages.items():
        villages.add_metric([status], n)
    depth = GaugeMetricFamily(
        "sipande_queue_depth", "Villages whose next poll is due or overdue now."
    )
    depth.add_metric([], snapshot.overdue)
    lateness = GaugeMetricFamily(
        "sipande_queue_max_lateness_seconds", "How late the most overdue poll is."
    )
    lateness.add_metric([], snapshot.max_lateness_s)
    out: list[Metric] = [info, up, checks, durations, villages, depth, lateness]
    if snapshot.last_check_at is not None:
        last = GaugeMetricFamily(
            "sipande_last_check_timestamp_seconds", "Unix time the newest stored poll started."
        )
        last.add_metric([], snapshot.last_check_at.timestamp())
        age = GaugeMetricFamily(
            "sipande_last_pass_age_seconds", "Seconds since the newest stored poll started."
        )
        age.add_metric([], snapshot.last_check_age_s or 0.0)
        out += [last, age]
    return out


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def render(snapshot: OpsSnapshot | None) -> bytes:
    """Prometheus text exposition format (0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families(snapshot)))
    return generate_latest(registry)
