"""The two yardsticks beside the activity score (docs/design.md): Keterbukaan Informasi (KIP) and
Keamanan Digital, their I/O collector, expiry alerts and the per-village coaching list.
"""

from __future__ import annotations

from .coaching import CoachingItem, CoachingSettings, coaching_list, most_urgent_first
from .collect import YardstickReport, collect_yardsticks
from .expiry import ExpiryEvent, ExpiryWatch, check_expiry, expiry_alert_event
from .kip import KipFacts, KipSettings, KipSources, build_kip_facts, score_kip
from .rdap import DomainCheck, RdapClient
from .releases import VersionCheck, check_version, load_releases
from .security import SecurityFacts, SecuritySettings, score_security
from .tlsprobe import TlsCheck, TlsProber

__all__ = [
    "CoachingItem",
    "CoachingSettings",
    "DomainCheck",
    "ExpiryEvent",
    "ExpiryWatch",
    "KipFacts",
    "KipSettings",
    "KipSources",
    "RdapClient",
    "SecurityFacts",
    "SecuritySettings",
    "TlsCheck",
    "TlsProber",
    "VersionCheck",
    "YardstickReport",
    "build_kip_facts",
    "check_expiry",
    "check_version",
    "coaching_list",
    "collect_yardsticks",
    "expiry_alert_event",
    "load_releases",
    "most_urgent_first",
    "score_kip",
    "score_security",
]
