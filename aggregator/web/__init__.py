"""The web layer: Starlette app factory, pages and JSON API. Reads the store, never writes."""

from aggregator.web.app import create_app

__all__ = ["create_app"]
