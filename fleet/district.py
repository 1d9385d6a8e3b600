"""Fleet composition from the Purbalingga wilayah CSV, and districts.yaml text for a fleet."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Collection, Mapping, Sequence
from importlib import resources

from .kinds import DEFAULT_KIND, assign_kinds
from .model import JUDOL, LOOKALIKES, UNREACHABLE, SimVillage

# Share of the villages left after the special behaviours: 45 : 15 : 15 : 5 (of 80).
CONTENT_MIX = (("active", 9), ("quiet", 3), ("abandoned", 3), ("never_posted", 1))
SPECIALS = ("down_500", "hang", "unresolvable", "no_site")
SPECIAL_SHARE = 0.04
SLOW_SHARE = 0.02
# From this size on a district has compromised villages (the commonest patterns first, one
# more per INTEGRITY_STEP villages) and both clean lookalikes, replacing active villages.
INTEGRITY_MIN = 30
INTEGRITY_STEP = 9
JUDOL_ORDER = (
    "judol_hidden_links",
    "judol_injected_posts",
    "judol_cloak_ua",
    "judol_head",
    "judol_cloak_referer",
    "judol_redirect",
    "judol_doorway_sitemap",
)


def load_villages() -> list[SimVillage]:
    """Every village of the bundled CSV, in file order, all with behaviour "active"."""
    text = resources.files("fleet").joinpath("data/purbalingga_wilayah.csv").read_text("utf-8")
    return [
        SimVillage(
            code=row["kode_desa"],
            name=row["nama_desa"],
            type=row["jenis"],
            kecamatan_code=row["kode_kecamatan"],
            kecamatan_name=row["nama_kecamatan"],
            behaviour="active",
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


def spread(villages: list[SimVillage], n: int) -> list[SimVillage]:
    """The first `n` villages taken round-robin over kecamatan (first of each, then second...)."""
    if not 0 <= n <= len(villages):
        raise ValueError(f"n must be between 0 and {len(villages)}, got {n}")
    groups: dict[str, list[SimVillage]] = {}
    for village in villages:
        groups.setdefault(village.kecamatan_code, []).append(village)
    picked: list[SimVillage] = []
    rank = 0
    while len(picked) < n:
        picked += [group[rank] for group in groups.values() if rank < len(group)]
        rank += 1
    return picked[:n]


def behaviour_mix(n: int) -> list[str]:
    """Behaviour counts for a fleet of `n` (unshuffled): specials first, then the content mix."""
    specials: list[str] = []
    if n >= 12:
        for name in SPECIALS:
            specials += [name] * max(1, round(n * SPECIAL_SHARE))
    if n >= 40:
        specials += ["slow"] * max(1, round(n * SLOW_SHARE))
    rest = n - len(specials)
    weight = sum(w for _, w in CONTENT_MIX)
    counts = {name: rest * w // weight for name, w in CONTENT_MIX}
    by_remainder = sorted(CONTENT_MIX, key=lambda item: -(rest * item[1] % weight))
    for name, _ in by_remainder[: rest - sum(counts.values())]:
        counts[name] += 1
    return specials + [name for name, _ in CONTENT_MIX for _ in range(counts[name])]


def integrity_mix(n: int) -> list[str]:
    """Compromised and lookalike behaviours of a district of `n` ([] below INTEGRITY_MIN)."""
    if n < INTEGRITY_MIN:
        return []
    count = min(len(JUDOL_ORDER), max(3, n // INTEGRITY_STEP))
    return [*JUDOL_ORDER[:count], *LOOKALIKES]


def with_integrity(behaviours: list[str]) -> list[str]:
    """`behaviours` (unshuffled) with its first active villages compromised or lookalikes."""
    out = list(behaviours)
    actives = (i for i, b in enumerate(out) if b == "active")
    for index, behaviour in zip(actives, integrity_mix(len(out)), strict=False):
        out[index] = behaviour
    return out


def village_kinds(behaviours: list[str], seed: int) -> list[str]:
    """A kind per village: kind_mix over the villages with a server, shuffled by `seed`; the
    first village of each kind is one that answers with articles (not never_posted, down_500,
    hang or compromised) so every kind in the mix can be seen cleanly. Villages without a server
    get the default kind."""
    sited = [i for i, b in enumerate(behaviours) if b not in UNREACHABLE]
    hidden = ("never_posted", "down_500", "hang", *JUDOL)
    showing = [i for i in sited if behaviours[i] not in hidden]
    order = showing + [i for i in sited if i not in showing]
    firsts: list[str] = []
    others: list[str] = []
    for kind in assign_kinds(len(sited), seed):
        (others if kind in firsts else firsts).append(kind)
    kinds = [DEFAULT_KIND] * len(behaviours)
    for index, kind in zip(order, firsts + others, strict=True):
        kinds[index] = kind
    return kinds


def district_villages(n: int, seed: int) -> list[SimVillage]:
    """`n` villages spread over kecamatan, with behaviour_mix(n) shuffled by `seed` and the
    kind mix assigned independently (village_kinds)."""
    picked = spread(load_villages(), n)
    behaviours = with_integrity(behaviour_mix(n))
    random.Random(f"{seed}:behaviours").shuffle(behaviours)
    kinds = village_kinds(behaviours, seed)
    return [
        SimVillage(v.code, v.name, v.type, v.kecamatan_code, v.kecamatan_name, b, k)
        for v, b, k in zip(picked, behaviours, kinds, strict=True)
    ]


def fault_villages(
    behaviours: Sequence[str], *, exclude: Collection[str], kind: str = DEFAULT_KIND
) -> list[SimVillage]:
    """One village per behaviour, of `kind`, taken over kecamatan from the villages whose code
    is not in `exclude` (a fault fleet, or the faults added to a district)."""
    free = [v for v in load_villages() if v.code not in exclude]
    picked = spread(free, len(behaviours))
    return [
        SimVillage(v.code, v.name, v.type, v.kecamatan_code, v.kecamatan_name, b, kind)
        for v, b in zip(picked, behaviours, strict=True)
    ]


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._'/-]*[A-Za-z0-9.]|[A-Za-z]|\d+(?:ms|s|m|h|d)")
_RESERVED = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}


def yaml_scalar(value: object) -> str:
    """A YAML scalar for `value`: plain when unambiguous, else JSON (a YAML subset)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def render_config(
    entries: list[tuple[SimVillage, str]],
    *,
    kabupaten_code: str,
    kabupaten_name: str,
    settings: Mapping[str, object],
    comment: str = "",
    html_rules: Mapping[str, Mapping[str, str]] | None = None,
    rules_of: Mapping[str, str] | None = None,
) -> str:
    """districts.yaml text listing every (village, url) grouped by kecamatan, sorted by code;
    `html_rules` become the top-level mapping, `rules_of` names a village's entry in it."""
    lines = [f"# {comment}"] if comment else []
    kab = f"{{code: {json.dumps(kabupaten_code)}, name: {yaml_scalar(kabupaten_name)}}}"
    lines += [f"kabupaten: {kab}", "settings:"]
    lines += [f"  {key}: {yaml_scalar(value)}" for key, value in settings.items()]
    if html_rules:
        lines.append("html_rules:")
        for name, rules in html_rules.items():
            lines.append(f"  {yaml_scalar(name)}:")
            lines += [f"    {key}: {yaml_scalar(value)}" for key, value in rules.items()]
    rules_of = rules_of or {}
    lines.append("kecamatan:")
    groups: dict[str, list[tuple[SimVillage, str]]] = {}
    for village, url in sorted(entries, key=lambda e: (e[0].kecamatan_code, e[0].code)):
        groups.setdefault(village.kecamatan_code, []).append((village, url))
    for code, members in groups.items():
        lines += [
            f"  - code: {json.dumps(code)}",
            f"    name: {yaml_scalar(members[0][0].kecamatan_name)}",
        ]
        lines.append("    villages:")
        for v, url in members:
            fields = (
                f"code: {json.dumps(v.code)}, name: {json.dumps(v.name, ensure_ascii=False)}, "
                f"type: {yaml_scalar(v.type)}, url: {json.dumps(url)}, platform: auto"
            )
            if v.code in rules_of:
                fields += f", html_rules: {yaml_scalar(rules_of[v.code])}"
            lines.append(f"      - {{{fields}}}")
    if not groups:
        lines[-1] = "kecamatan: []"
    return "\n".join(lines) + "\n"
