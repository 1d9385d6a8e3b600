"""Activity score 0–100 (docs/design.md): pure functions from a village's facts to components,
each with its value, weight and a one-line reason in Bahasa Indonesia.

A component whose facts are unknown (no checks yet, no counter widget) is left out and the
other weights are rescaled, and the reason says so; unknown is not the same as bad.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

SERVICE_KINDS = (
    "lapak",
    "ppid",
    "pengaduan",
    "pembangunan",
    "statistik",
    "pemerintah",
    "layanan_mandiri",
)
SERVICE_LABELS = {
    "lapak": "Lapak",
    "ppid": "PPID",
    "pengaduan": "Pengaduan",
    "pembangunan": "Pembangunan",
    "statistik": "Statistik",
    "pemerintah": "Pemerintah/kehadiran",
    "layanan_mandiri": "Layanan mandiri",
}


SERVICE_STALE = timedelta(days=365)  # older dated content no longer proves a working service

# A service as the site shows it: "berisi" (published with content: a count above zero, or
# an entry point such as layanan mandiri that has no count), "kosong" (the page exists but
# lists nothing), "usang" (its newest dated content is older than SERVICE_STALE_DAYS),
# "tidak_ada" (not published), "rusak" (published, but its page answers an error and no
# earlier answer showed content: real 2410 esensi answers 500 on four service pages) or
# "belum_terbaca" (never read). Only "berisi" scores.
SERVICE_STATE_LABELS = {
    "berisi": "ada, berisi",
    "kosong": "ada, kosong",
    "usang": "ada, usang",
    "rusak": "ada, rusak",
    "tidak_ada": "tidak ada",
    "belum_terbaca": "belum terbaca",
}


def service_state(
    available: bool | None,
    count: int | None,
    last_date: datetime | str | None,
    now: datetime | None = None,
    error: str | None = None,
) -> str:
    """The one rule for what a service observation means (see SERVICE_STATE_LABELS). A page
    that failed after an answer with content keeps that answer's state: one passing error
    does not take a service's content from the score."""
    if available is None:
        return "belum_terbaca"
    if not available:
        return "tidak_ada"
    if error is not None and not (count is not None and count > 0):
        return "rusak"
    if count is not None and count <= 0:
        return "kosong"
    if isinstance(last_date, str):
        last_date = datetime.fromisoformat(last_date)
    stale = now is not None and last_date is not None and now - last_date > SERVICE_STALE
    return "usang" if stale else "berisi"


def service_label(
    obs: Mapping[str, Any] | None, now: datetime | None = None, *, with_count: bool = True
) -> str:
    """ "ada, berisi 12", "ada, kosong", "tidak ada"… for pages and exports."""
    if obs is None:
        return SERVICE_STATE_LABELS["belum_terbaca"]
    error = obs.get("error")
    state = service_state(obs["available"], obs.get("count"), obs.get("last_date"), now, error)
    label = SERVICE_STATE_LABELS[state]
    if with_count and state == "berisi" and obs.get("count") is not None:
        label += f" {obs['count']}"
    if error:
        label += f" ({error})" if state == "rusak" else f" (terakhir dibaca: {error})"
    return label


@dataclass(frozen=True)
class ScoringSettings:
    """`settings.scoring` in the config; weights are relative (they need not sum to 100)."""

    weight_freshness: float = 30.0
    weight_cadence: float = 25.0
    weight_availability: float = 20.0
    weight_services: float = 15.0
    weight_engagement: float = 10.0
    fresh_days: float = 7.0  # a post this recent earns the whole freshness component
    stale_days: float = 90.0  # ...and one this old (or none) earns nothing
    cadence_target: float = 8.0  # posts per 30 days that earn the whole cadence component
    availability_days: float = 7.0
    engagement_target: float = 50.0  # visitors per day that earn the whole component
    compromised_penalty: float = 0.8  # share of the score taken away while compromised


@dataclass(frozen=True)
class VillageFacts:
    """What scoring needs to know about one village at `now`."""

    has_site: bool
    compromised: bool
    days_since_post: float | None  # legitimate posts only
    posts_30d: int
    checks: int  # over the availability window
    checks_ok: int
    # kind -> whether the service has content (service_state "berisi"); observed kinds only
    services: Mapping[str, bool] = field(default_factory=dict)
    visitors_per_day: float | None = None


@dataclass(frozen=True)
class Component:
    key: str
    label: str
    value: float | None  # 0..1, None when unknown
    weight: float
    points: float  # contribution to the 0..100 score after rescaling
    reason: str


@dataclass(frozen=True)
class Score:
    score: float
    components: tuple[Component, ...]
    penalty: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "penalty": self.penalty,
            "components": [asdict(c) for c in self.components],
        }


def decay(days: float, fresh_days: float, stale_days: float) -> float:
    """1 up to `fresh_days`, 0 from `stale_days`, linear in between (freshness components)."""
    if days <= fresh_days:
        return 1.0
    if days >= stale_days:
        return 0.0
    return 1 - (days - fresh_days) / (stale_days - fresh_days)


def days_ago(days: float) -> str:
    """`hari ini` or `12 hari lalu`."""
    return "hari ini" if days < 1 else f"{int(days)} hari lalu"


def _freshness(f: VillageFacts, s: ScoringSettings) -> tuple[float, str]:
    d = f.days_since_post
    if d is None:
        return 0.0, "Belum pernah ada berita"
    return decay(d, s.fresh_days, s.stale_days), f"Berita terakhir {days_ago(d)}"


def _cadence(f: VillageFacts, s: ScoringSettings) -> tuple[float, str]:
    value = min(1.0, f.posts_30d / s.cadence_target) if s.cadence_target > 0 else 1.0
    return value, f"{f.posts_30d} berita dalam 30 hari (target {s.cadence_target:g})"


def _availability(f: VillageFacts, s: ScoringSettings) -> tuple[float | None, str]:
    days = f"{s.availability_days:g} hari"
    if f.checks == 0:
        return None, f"Belum ada pemeriksaan dalam {days}"
    share = f.checks_ok / f.checks
    return share, f"{share:.0%} pemeriksaan berhasil dalam {days} ({f.checks_ok} dari {f.checks})"


def _services(f: VillageFacts, s: ScoringSettings) -> tuple[float | None, str]:
    if not f.services:
        return None, "Layanan belum terbaca dari situs"
    alive = [k for k in SERVICE_KINDS if f.services.get(k)]
    missing = [SERVICE_LABELS[k] for k in SERVICE_KINDS if not f.services.get(k)]
    reason = f"{len(alive)} dari {len(SERVICE_KINDS)} layanan ada dan berisi"
    if missing:
        reason += "; belum ada atau kosong: " + ", ".join(missing)
    return len(alive) / len(SERVICE_KINDS), reason


def _engagement(f: VillageFacts, s: ScoringSettings) -> tuple[float | None, str]:
    if f.visitors_per_day is None:
        return None, "Penghitung pengunjung tidak terbaca"
    v = max(0.0, f.visitors_per_day)
    value = min(1.0, v / s.engagement_target) if s.engagement_target > 0 else 1.0
    return value, f"Rata-rata {v:.0f} pengunjung per hari (target {s.engagement_target:g})"


_COMPONENTS = (
    ("freshness", "Kebaruan", "weight_freshness", _freshness),
    ("cadence", "Keteraturan", "weight_cadence", _cadence),
    ("availability", "Ketersediaan", "weight_availability", _availability),
    ("services", "Kelengkapan layanan", "weight_services", _services),
    ("engagement", "Keterlibatan", "weight_engagement", _engagement),
)


def score_village(facts: VillageFacts, settings: ScoringSettings) -> Score:
    """The score of one village with every component explained."""
    if not facts.has_site:
        return Score(0.0, (), penalty="Belum ada situs desa: skor 0")
    raw: list[tuple[str, str, float | None, float, str]] = []
    for key, label, weight_name, fn in _COMPONENTS:
        value, reason = fn(facts, settings)
        raw.append((key, label, value, float(getattr(settings, weight_name)), reason))
    known_weight = sum(w for _, _, v, w, _ in raw if v is not None)
    components = []
    total = 0.0
    for key, label, value, weight, reason in raw:
        if value is None or known_weight <= 0:
            components.append(
                Component(key, label, None, weight, 0.0, reason + " (tidak dihitung)")
            )
            continue
        points = 100.0 * weight / known_weight * value
        total += points
        components.append(Component(key, label, round(value, 3), weight, round(points, 1), reason))
    penalty = None
    if facts.compromised:
        total *= 1 - settings.compromised_penalty
        penalty = (
            f"Situs disusupi (temuan integritas terbuka): skor dikurangi "
            f"{settings.compromised_penalty:.0%}"
        )
    return Score(round(total, 1), tuple(components), penalty)


def visitors_per_day(samples: Sequence[tuple[datetime, float]]) -> float | None:
    """Average daily visitors from samples of the site's running total counter.

    Counters get reset by site rebuilds; a drop starts a new run instead of going negative.
    """
    points = sorted(samples)
    if len(points) < 2:
        return None
    gained = 0.0
    for (_, a), (_, b) in itertools.pairwise(points):
        if b >= a:
            gained += b - a
    days = (points[-1][0] - points[0][0]).total_seconds() / 86400
    if days < 0.5:  # too short a window to say anything per day
        return None
    return gained / days
