"""Signals and findings (docs/design.md): what each signal code means, its family for
correlation gating (G10), and the finding kind it reports under.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from aggregator.integrity.normalise import clean_evidence

EVIDENCE_LIMIT = 300
DECISIVE_POINTS = 60  # decisive signals score 60 and up; mediums below


@dataclass(frozen=True)
class Signal:
    code: str  # e.g. "hidden_link_block"; see RULES
    points: int
    evidence: str  # ≤ 300 chars, defanged, no markup: what to look for and where
    where: str  # "home", "page:<url>", "post:<url>", "sitemap", "robots", "variant:crawler"…

    def __post_init__(self) -> None:
        if len(self.evidence) > EVIDENCE_LIMIT or "<script" in self.evidence.lower():
            raise ValueError(f"evidence of {self.code} must be ≤ 300 chars without markup")


@dataclass(frozen=True)
class Finding:
    kind: str  # "judi_online" | "defacement" | "hijack_redirect" | "cloaking"
    evidence: str
    url: str
    signals: tuple[Signal, ...]
    score: int
    level: str = "compromised"  # "compromised" | "suspicious" (lower levels make no finding)


@dataclass(frozen=True)
class Rule:
    spec: str  # the rule id (D1…, M1…) or the guard that produced a note
    kind: str
    family: str  # G10: lexical | links | structural | behavioural | drift | info


def rule_of(code: str) -> Rule:
    """The rule behind a code; an unknown code (stored by an older version) is a medium."""
    return RULES.get(code, Rule("?", "judi_online", "structural"))


def signal(code: str, points: int, evidence: str, where: str) -> Signal:
    """A Signal with its evidence cleaned for display (defanged, ≤ 300 chars, one line)."""
    return Signal(code, points, clean_evidence(evidence, EVIDENCE_LIMIT), where)


J, D, H, C = "judi_online", "defacement", "hijack_redirect", "cloaking"
RULES = MappingProxyType(
    {
        # decisive (points ≥ 60)
        "hidden_link_block": Rule("D1", J, "structural"),
        "spam_title": Rule("D2", J, "structural"),
        "spam_meta": Rule("D2", J, "structural"),
        "cloaking_ua": Rule("D3", C, "behavioural"),
        "cloaking_referer": Rule("D4", C, "behavioural"),
        "offsite_redirect": Rule("D5", H, "behavioural"),
        "meta_refresh_offsite": Rule("D5", H, "behavioural"),
        "js_redirect_offsite": Rule("D5", H, "behavioural"),
        "js_redirect_free_host": Rule("M4", H, "behavioural"),
        "injected_post": Rule("D6", J, "structural"),
        "doorway_sitemap": Rule("D7", J, "structural"),
        "payload_outside_html": Rule("D8", J, "structural"),
        "doorway_page": Rule("D9", J, "structural"),
        "landing_page": Rule("P5", D, "structural"),
        # medium
        "gambling_links_visible": Rule("M1", J, "links"),
        "lexical_spam": Rule("M2", J, "lexical"),
        "external_canonical": Rule("M3", H, "structural"),
        "js_cloaking": Rule("M4", C, "behavioural"),
        "script_free_host": Rule("M4", C, "behavioural"),
        "view_divergence": Rule("M5", C, "behavioural"),
        "fancy_unicode": Rule("M6", J, "lexical"),
        "search_console_foreign": Rule("M9", J, "drift"),
        "sitemap_offhost": Rule("P7", J, "structural"),
        "robots_sitemap_offhost": Rule("P7", J, "structural"),
        # informational: never above CLEAN_WITH_NOTES alone
        "comment_spam": Rule("G3", "comment_spam", "info"),
        "judol_news": Rule("G1", J, "info"),
        "gambling_terms": Rule("M2", J, "info"),
        "moved": Rule("G8", H, "info"),
        "prefix_garbage": Rule("P13", D, "info"),
        "variant_inconclusive": Rule("G6", C, "info"),
    }
)
