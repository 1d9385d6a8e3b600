"""Scoring and verdict (G10): a decisive signal, or two medium ones from different families
totalling 70, is a compromise; a keyword alone never is. Findings group signals by kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.integrity.normalise import clean_evidence
from aggregator.integrity.signals import DECISIVE_POINTS, Finding, Signal, rule_of

CLEAN, NOTES, SUSPICIOUS, COMPROMISED, INCONCLUSIVE = (
    "clean",
    "clean_with_notes",
    "suspicious",
    "compromised",
    "inconclusive",
)
COMPROMISE_SCORE = 70  # G10
SUSPICIOUS_SCORE = 30
FINDING_EVIDENCE_LIMIT = 600


@dataclass(frozen=True)
class Assessment:
    level: str  # clean | clean_with_notes | suspicious | compromised | inconclusive
    score: int
    confidence: str  # "high" (≥ 100 or two decisive signals), "normal", or "" below compromised
    findings: tuple[Finding, ...]  # only for suspicious and compromised
    notes: tuple[Signal, ...]  # informational signals, for the village page


def is_decisive(s: Signal) -> bool:
    return rule_of(s.code).family != "info" and s.points >= DECISIVE_POINTS


def _page_score(signals: list[Signal]) -> int:
    """Σ points; D6 counts the first injected post in full and +3 per extra (cap +30)."""
    posts = sorted((s.points for s in signals if s.code == "injected_post"), reverse=True)
    others = sum(s.points for s in signals if s.code != "injected_post")
    return others + (posts[0] + min(30, 3 * (len(posts) - 1)) if posts else 0)


def site_score(signals: Sequence[Signal]) -> int:
    """The worst page, + 10 per other page with a decisive signal (cap 30)."""
    pages: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        pages["posts" if s.code == "injected_post" else s.where].append(s)
    if not pages:
        return 0
    scored = sorted(((_page_score(v), k) for k, v in pages.items()), reverse=True)
    worst_key = scored[0][1]
    others = sum(1 for k, v in pages.items() if k != worst_key and any(map(is_decisive, v)))
    return scored[0][0] + 10 * min(3, others)


def assess(signals: Sequence[Signal], url: str) -> Assessment:
    decisive = [s for s in signals if is_decisive(s)]
    info = [s for s in signals if rule_of(s.code).family == "info"]
    medium = [s for s in signals if s not in decisive and s not in info]
    score = site_score(signals)
    families = {rule_of(s.code).family for s in medium}
    if decisive or (score >= COMPROMISE_SCORE and len(families) >= 2):
        level = COMPROMISED
    elif medium and (score >= SUSPICIOUS_SCORE or max(s.points for s in medium) >= 30):
        level = SUSPICIOUS
    elif medium or any(s.code != "variant_inconclusive" for s in info):
        level = NOTES
    elif any(s.code == "variant_inconclusive" and s.where == "variant:browser" for s in info):
        level = INCONCLUSIVE
    else:
        level = CLEAN
    confidence = ""
    if level == COMPROMISED:
        confidence = "high" if score >= 100 or len(decisive) >= 2 else "normal"
    findings = (
        _findings([*decisive, *medium], url, level) if level in (SUSPICIOUS, COMPROMISED) else ()
    )
    return Assessment(level, score, confidence, findings, tuple(info))


def verdict(signals: Sequence[Signal], url: str) -> list[Finding]:
    """Findings to open or update for `url`: none unless the signals make it suspicious or
    compromised (a keyword alone, a guarded article or a comment never does)."""
    return list(assess(signals, url).findings)


def _findings(signals: list[Signal], url: str, level: str) -> tuple[Finding, ...]:
    groups: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        groups[rule_of(s.code).kind].append(s)
    findings = []
    for kind, group in groups.items():
        group.sort(key=lambda s: -s.points)
        lines = [f"[{s.where} · {s.code}] {s.evidence}" for s in group[:3]]
        if len(group) > 3:
            lines.append(f"+{len(group) - 3} more signals")
        evidence = clean_evidence(" | ".join(lines), FINDING_EVIDENCE_LIMIT)
        findings.append(Finding(kind, evidence, url, tuple(group), site_score(group), level))
    return tuple(sorted(findings, key=lambda f: (-f.score, f.kind)))
