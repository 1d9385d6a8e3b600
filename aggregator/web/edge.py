"""What the web app believes about where a request came from and where it went: the Host
names it answers (`allowed_hosts`), the proxies whose X-Forwarded-* headers it believes
(`trusted_proxies`), and its own public address (`base_url`), which replaces the request's
Host everywhere a url is built (feeds, redirects), so a forged Host reaches no output."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aggregator.settings import Settings


class BaseUrl:
    """Pure ASGI middleware: every request looks as if it was made to `base_url`."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc.lower().encode("latin-1")
        self.host = (parts.hostname or "").encode("latin-1")
        self.port = parts.port or (443 if parts.scheme == "https" else 80)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {
                **scope,
                "scheme": self.scheme if scope["type"] == "http" else scope["scheme"],
                "server": (self.host.decode("latin-1"), self.port),
                "headers": [(b"host", self.netloc), *headers],
            }
        await self.app(scope, receive, send)


def edge_middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: refuse unknown hosts, believe only the proxy, then the base url."""
    out = []
    if settings.allowed_hosts:
        hosts = list(settings.allowed_hosts)
        out.append(Middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False))
    if settings.trusted_proxies:
        proxies = list(settings.trusted_proxies)
        out.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=proxies))
    if settings.base_url:
        out.append(Middleware(BaseUrl, base_url=settings.base_url))
    return out


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options for `serve`: forwarded headers are the app's business (above, only
    from `trusted_proxies`), and the Server header does not name the software."""
    return {"proxy_headers": False, "server_header": False}
