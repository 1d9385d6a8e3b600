"""Simulated fleet of OpenSID village web sites on loopback, for the demo, tests and benchmarks."""

from __future__ import annotations

from .model import BEHAVIOURS, Article, RequestRecord, SimVillage
from .server import Fleet

__all__ = ["BEHAVIOURS", "Article", "Fleet", "RequestRecord", "SimVillage"]
