"""Thresholds a Dinkominfo user may change from the dashboard (status windows, score weights):
their names, bounds and labels, reading the form, and laying overrides over the file's values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from aggregator.settings import Settings


@dataclass(frozen=True)
class Threshold:
    key: str  # a Settings field, or "scoring.<field>"
    label: str
    lo: float
    hi: float
    whole: bool = False  # days and counts are whole numbers


THRESHOLDS = (
    Threshold("active_days", "Aktif: ada berita dalam (hari)", 1, 365, whole=True),
    Threshold("low_activity_days", "Kurang aktif: ada berita dalam (hari)", 2, 1825, whole=True),
    Threshold("unreachable_after", "Tidak terjangkau setelah gagal berturut-turut", 1, 50, True),
    Threshold("scoring.weight_freshness", "Bobot kebaruan berita", 0, 100),
    Threshold("scoring.weight_cadence", "Bobot keteraturan berita", 0, 100),
    Threshold("scoring.weight_availability", "Bobot ketersediaan situs", 0, 100),
    Threshold("scoring.weight_services", "Bobot layanan", 0, 100),
    Threshold("scoring.weight_engagement", "Bobot pengunjung", 0, 100),
)
BY_KEY = {t.key: t for t in THRESHOLDS}


def current_value(settings: Settings, key: str) -> float:
    if key.startswith("scoring."):
        return float(getattr(settings.scoring, key.removeprefix("scoring.")))
    return float(getattr(settings, key))


def apply_overrides(base: Settings, overrides: Mapping[str, float]) -> Settings:
    """`base` with the stored overrides laid over it; keys no longer known are ignored."""
    top: dict[str, Any] = {}  # whole numbers: every top-level threshold is an int field
    scoring: dict[str, float] = {}
    for key, value in overrides.items():
        t = BY_KEY.get(key)
        if t is None:
            continue
        if key.startswith("scoring."):
            scoring[key.removeprefix("scoring.")] = float(value)
        else:
            top[key] = int(value)
    if not top and not scoring:
        return base
    return replace(base, **top, scoring=replace(base.scoring, **scoring))


def parse_form(form: Mapping[str, str]) -> tuple[dict[str, float], list[str]]:
    """Values from the thresholds form, and every problem found (in Bahasa Indonesia)."""
    values: dict[str, float] = {}
    problems: list[str] = []
    for t in THRESHOLDS:
        raw = form.get(t.key, "").strip().replace(",", ".")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # "inf", "nan", "1e400" parse, but are no number here
            problems.append(f"{t.label}: isi dengan angka")
            continue
        if t.whole and value != int(value):
            problems.append(f"{t.label}: isi dengan bilangan bulat")
        elif not t.lo <= value <= t.hi:
            problems.append(f"{t.label}: antara {t.lo:g} dan {t.hi:g}")
        else:
            values[t.key] = value
    if values.get("low_activity_days", 2) <= values.get("active_days", 1):
        problems.append("Batas kurang aktif harus lebih panjang daripada batas aktif")
    weights = [v for k, v in values.items() if k.startswith("scoring.weight_")]
    if len(weights) == 5 and sum(weights) <= 0:
        problems.append("Setidaknya satu bobot skor harus lebih dari 0")
    return values, problems
