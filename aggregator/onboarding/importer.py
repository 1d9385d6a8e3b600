"""Match imported site rows to the configured villages and plan the url changes.

Official codes match exactly; names only after normalisation and within their kecamatan.
A near miss is reported with suggestions ("did you mean ..."), never applied: a url
written to the wrong village would be polled and scored as that village's.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aggregator.onboarding.names import name_key, site_url, village_code
from aggregator.onboarding.tables import SiteRow
from aggregator.settings import DistrictConfig, KecamatanConfig, VillageConfig

SUGGEST_CUTOFF = 0.75
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Change:
    """A village whose url the import sets (old is "" for a village without one)."""

    code: str
    name: str
    old: str
    new: str
    where: str
    note: str = ""


@dataclass(frozen=True)
class Skipped:
    """A row not applied, and why."""

    where: str
    label: str  # what the row said: code and/or name
    reason: str


@dataclass
class ImportPlan:
    source: str
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    unchanged: list[Change] = field(default_factory=list)
    not_matched: list[Skipped] = field(default_factory=list)
    duplicates: list[Skipped] = field(default_factory=list)
    unknown_codes: list[Skipped] = field(default_factory=list)
    invalid_urls: list[Skipped] = field(default_factory=list)
    without_url: list[Skipped] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        """code -> new url, for the config writer."""
        return {c.code: c.new for c in self.changes}


def _label(row: SiteRow) -> str:
    parts = [p for p in (row.code, row.name) if p]
    if row.kecamatan:
        parts.append(f"(kecamatan {row.kecamatan})")
    return " ".join(parts) or "(empty)"


def _describe(v: VillageConfig, kec_names: dict[str, str]) -> str:
    return f"{v.name} ({v.code}, {kec_names.get(v.kecamatan_code, v.kecamatan_code)})"


class Matcher:
    """Finds the configured village a row means."""

    def __init__(self, config: DistrictConfig) -> None:
        self.by_code = {v.code: v for v in config.villages}
        self.kec_names = {k.code: k.name for k in config.kecamatan}
        self._kec_by_key: dict[str, KecamatanConfig] = {}
        for k in config.kecamatan:
            self._kec_by_key[name_key(k.name)] = k
            self._kec_by_key[k.code] = k
        self._by_name: dict[str, list[VillageConfig]] = {}
        for v in config.villages:
            self._by_name.setdefault(name_key(v.name), []).append(v)

    def kecamatan(self, text: str) -> KecamatanConfig | None:
        return self._kec_by_key.get(text.strip()) or self._kec_by_key.get(name_key(text))

    def suggest(self, key: str, pool: Sequence[VillageConfig]) -> list[VillageConfig]:
        names = {name_key(v.name): v for v in pool}
        close = difflib.get_close_matches(key, list(names), MAX_SUGGESTIONS, SUGGEST_CUTOFF)
        return [names[c] for c in close]

    def by_name(self, row: SiteRow) -> tuple[VillageConfig | None, str]:
        """The village a name (and kecamatan) row means, or None and why not."""
        key = name_key(row.name)
        pool: Sequence[VillageConfig] = list(self.by_code.values())
        if row.kecamatan:
            kec = self.kecamatan(row.kecamatan)
            if kec is None:
                known = {name_key(k): k for k in self.kec_names.values()}
                close = difflib.get_close_matches(name_key(row.kecamatan), list(known), 1, 0.7)
                hint = f", did you mean {known[close[0]]}?" if close else ""
                return None, f"unknown kecamatan {row.kecamatan!r}{hint}"
            pool = kec.villages
        exact = [v for v in self._by_name.get(key, []) if v in pool]
        if len(exact) == 1:
            return exact[0], ""
        if len(exact) > 1:
            places = " and ".join(_describe(v, self.kec_names) for v in exact)
            return None, f"ambiguous: {places}; add the kecamatan or the code"
        near = self.suggest(key, pool)
        if near:
            options = " or ".join(_describe(v, self.kec_names) for v in near)
            return None, f"not matched, did you mean {options}?"
        where = f" in kecamatan {row.kecamatan}" if row.kecamatan else ""
        return None, f"not matched: no village named {row.name!r}{where}"


def plan_import(config: DistrictConfig, rows: Iterable[SiteRow], source: str) -> ImportPlan:
    """Decide, row by row, which village gets which url; nothing is written here."""
    matcher = Matcher(config)
    plan = ImportPlan(source=source)
    seen: dict[str, tuple[str, str]] = {}  # code -> (where, url) of the first row for it
    conflicted: set[str] = set()
    for row in rows:
        plan.rows += 1
        label = _label(row)
        village: VillageConfig | None = None
        note = ""
        if row.code:
            code = village_code(row.code)
            if code is None:
                plan.unknown_codes.append(
                    Skipped(row.where, label, f"{row.code!r} is not a code like 33.03.01.2001")
                )
                continue
            village = matcher.by_code.get(code)
            if village is None:
                plan.unknown_codes.append(
                    Skipped(row.where, label, f"{code} is not a village of {config.path}")
                )
                continue
            if row.name and name_key(row.name) != name_key(village.name):
                note = f"name {row.name!r} differs from the config's {village.name!r}"
        elif row.name:
            village, why = matcher.by_name(row)
            if village is None:
                plan.not_matched.append(Skipped(row.where, label, why))
                continue
        else:
            plan.not_matched.append(Skipped(row.where, label, "neither a code nor a name"))
            continue
        url, problem = site_url(row.url)
        if not url:
            plan.without_url.append(Skipped(row.where, label, "no url"))
            continue
        if problem:
            plan.invalid_urls.append(Skipped(row.where, label, f"url {url!r} {problem}"))
            continue
        first = seen.get(village.code)
        if first is not None:
            first_where, first_url = first
            if first_url == url:
                why = f"{village.code} {village.name} again (first at {first_where}): used once"
            else:
                conflicted.add(village.code)
                why = (
                    f"{village.code} {village.name} again (first at {first_where}) with another "
                    f"url ({first_url} vs {url}): neither is applied"
                )
            plan.duplicates.append(Skipped(row.where, label, why))
            continue
        seen[village.code] = (row.where, url)
        change = Change(village.code, village.name, village.url, url, row.where, note)
        (plan.unchanged if village.url == url else plan.changes).append(change)
    if conflicted:
        # Two rows disagree about one village: applying either would be a guess.
        plan.changes = [c for c in plan.changes if c.code not in conflicted]
        plan.unchanged = [c for c in plan.unchanged if c.code not in conflicted]
    return plan


def format_plan(plan: ImportPlan) -> list[str]:
    """The report printed by import-sites and import-opendk."""
    new = sum(1 for c in plan.changes if not c.old)
    lines = [
        f"{plan.source}: {plan.rows} rows",
        f"  matched: {len(plan.changes)} ({new} new urls, {len(plan.changes) - new} changed)",
    ]
    for c in plan.changes:
        what = f"{c.old} -> {c.new}" if c.old else c.new
        note = f"  [{c.note}]" if c.note else ""
        lines.append(f"    {c.code} {c.name}: {what} ({c.where}){note}")
    lines.append(f"  unchanged: {len(plan.unchanged)}")
    lines += [f"    {c.code} {c.name}: already {c.new} ({c.where})" for c in plan.unchanged]
    for title, items in (
        ("not matched", plan.not_matched),
        ("duplicates", plan.duplicates),
        ("unknown codes", plan.unknown_codes),
        ("invalid urls", plan.invalid_urls),
    ):
        lines.append(f"  {title}: {len(items)}")
        lines += [f"    {s.where}: {s.label}: {s.reason}" for s in items]
    if plan.without_url:
        lines.append(f"  rows without a url (skipped): {len(plan.without_url)}")
    return lines
