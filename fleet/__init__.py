"""Simulated fleet of village web sites on loopback (OpenSID eras and themes, WordPress, an
Atom-feed CMS, plain HTML), for the demo, tests and benchmarks; with judi-online compromises
and clean lookalikes and hostile or broken servers."""

from __future__ import annotations

from .faults import ACCEPTABLE_FAULT_OUTCOMES, EXPECTED_FAULT_PHASE
from .judol import EXPECTED_RULE
from .kinds import DEFAULT_KIND, KINDS
from .model import (
    BEHAVIOURS,
    FAULTS,
    JUDOL,
    JUDOL_BODY,
    LOOKALIKES,
    Article,
    RequestRecord,
    SimVillage,
)
from .server import Fleet

__all__ = [
    "ACCEPTABLE_FAULT_OUTCOMES",
    "BEHAVIOURS",
    "DEFAULT_KIND",
    "EXPECTED_FAULT_PHASE",
    "EXPECTED_RULE",
    "FAULTS",
    "JUDOL",
    "JUDOL_BODY",
    "KINDS",
    "LOOKALIKES",
    "Article",
    "Fleet",
    "RequestRecord",
    "SimVillage",
]
