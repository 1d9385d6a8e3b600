"""Integrity watch: pure detection of judi-online injection, cloaking and hijacks on village
sites (docs/design.md). Functions take fetched bytes and return signals; no I/O here.
"""

from __future__ import annotations

from aggregator.integrity.cloaking import compare_views
from aggregator.integrity.detect import analyse_body, analyse_page
from aggregator.integrity.fragments import analyse_prefix
from aggregator.integrity.items import analyse_item, is_spam_item
from aggregator.integrity.signals import RULES, Finding, Signal
from aggregator.integrity.sitemap import analyse_redirect, analyse_robots, analyse_sitemap
from aggregator.integrity.verdict import Assessment, assess, verdict
from aggregator.integrity.vocabulary import VERSION as VOCABULARY_VERSION

__all__ = [
    "RULES",
    "VOCABULARY_VERSION",
    "Assessment",
    "Finding",
    "Signal",
    "analyse_body",
    "analyse_item",
    "analyse_page",
    "analyse_prefix",
    "analyse_redirect",
    "analyse_robots",
    "analyse_sitemap",
    "assess",
    "compare_views",
    "is_spam_item",
    "verdict",
]
