"""Sipande: district aggregator for village information systems."""

__version__ = "0.1.0"
