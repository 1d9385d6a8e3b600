"""Simulated fleet of village web sites on loopback (OpenSID eras and themes, WordPress, an
Atom-feed CMS, plain HTML), for the demo, tests and benchmarks."""

from __future__ import annotations

from .kinds import DEFAULT_KIND, KINDS
from .model import BEHAVIOURS, Article, RequestRecord, SimVillage
from .server import Fleet

__all__ = ["BEHAVIOURS", "DEFAULT_KIND", "KINDS", "Article", "Fleet", "RequestRecord", "SimVillage"]
