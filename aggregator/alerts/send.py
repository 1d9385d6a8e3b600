"""One send of an alert to one target.

A target is an Apprise URL (Telegram, e-mail, WhatsApp gateways, Slack, Discord, Matrix, a
JSON webhook, …) or the `webhook` key of the districts file, which keeps today's JSON body
and goes through the guarded `Fetcher`. Before Apprise sends, the host it will contact is
resolved and refused when it is not a public address, unless `allow_private_addresses` is
on (the same guard every other outbound request of Sipande honours). Where the events go
and when is `aggregator.alerts.outbox`; which events there are is decided where they happen.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import re
import socket
from collections.abc import Sequence
from dataclasses import asdict
from urllib.parse import urlsplit

from aggregator.alerts.events import AlertEvent, body, subject
from aggregator.errors import FetchError
from aggregator.fetch.client import Fetcher, is_public_address
from aggregator.settings import AlertSettings

log = logging.getLogger(__name__)

LEGACY_WEBHOOK = "webhook"  # the scheme-less name of the `webhook_url` target


def target_id(url: str) -> str:
    """A stable name of a target that carries none of its secrets."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def target_label(url: str) -> str:
    """The target as an officer may see it: Apprise's own masking of tokens and passwords."""
    if url.startswith(LEGACY_WEBHOOK + ":"):
        parts = urlsplit(url.partition(":")[2])
        return f"webhook {parts.scheme}://{parts.hostname or ''}"
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return url.partition("://")[0] + "://…"
    masked = plugin.url(privacy=True)  # type: ignore[no-untyped-call]
    return str(masked).split("?")[0][:200]


def legacy_webhook(url: str) -> str:
    """The `webhook_url` setting as a target name: it keeps today's JSON body."""
    return f"{LEGACY_WEBHOOK}:{url}"


_DOC_URLS = ("service_url", "setup_url")  # links to documentation, never contacted
_HOST_NAME = re.compile(r"^(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z][A-Za-z0-9-]*)$")


def _is_host(text: str) -> bool:
    """A DNS name with a dot (or localhost) or an IP address: not a bot token or an id."""
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return bool(_HOST_NAME.match(text))


def contacted_hosts(plugin: object) -> list[str]:
    """The host names an Apprise target may connect to: the mail server of an e-mail
    target; a service's fixed endpoints (api.telegram.org, hooks.slack.com: the plugin's
    `*_url` class attributes) with the URL's host when that is a host name (not a bot token
    or a webhook id); else the URL's host. None found: the caller refuses the target."""
    smtp = getattr(plugin, "smtp_host", None)
    if isinstance(smtp, str) and smtp:
        return [smtp]
    hosts = []
    for name in dir(type(plugin)):
        value = getattr(type(plugin), name, None)
        fixed = name.endswith("_url") and name not in _DOC_URLS and isinstance(value, str)
        if fixed and str(value).startswith(("http://", "https://")):
            hosts.append(urlsplit(str(value)).hostname or "")
    host = getattr(plugin, "host", None)
    if isinstance(host, str) and host and (_is_host(host) or not any(hosts)):
        hosts.append(host.strip("[]"))
    return [h for h in dict.fromkeys(hosts) if h]


def guard_problem(plugin: object, allow_private: bool) -> str | None:
    """Why the target may not be contacted (a private or unresolvable address), or None."""
    if allow_private:
        return None
    hosts = contacted_hosts(plugin)
    if not hosts:
        return "no host to check against the private-address guard"
    for host in hosts:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            return f"cannot resolve {host}: {e}"
        for info in infos:
            if not is_public_address(str(info[4][0])):
                return f"{host} resolves to the non-public address {info[4][0]} (blocked)"
    return None


def _apprise_send(url: str, title: str, text: str, allow_private: bool, timeout: float) -> None:
    """One Apprise send, in a worker thread; raises RuntimeError with the reason."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise RuntimeError("not an alert target Apprise understands")
    if why := guard_problem(plugin, allow_private):
        raise RuntimeError(why)
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, timeout)
    capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with capture as captured:
        ok = plugin.notify(
            body=text,
            title=title,
            notify_type=apprise.NotifyType.WARNING,
            body_format=apprise.NotifyFormat.TEXT,
        )
    if not ok:
        lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
        raise RuntimeError("; ".join(lines[-3:]) or "Apprise reported a failed send")


async def send_one(
    url: str, event: AlertEvent, settings: AlertSettings, fetcher: Fetcher
) -> str | None:
    """Send one event to one target; returns why it failed, or None. Never raises."""
    try:
        async with asyncio.timeout(settings.send_timeout):
            if url.startswith(LEGACY_WEBHOOK + ":"):
                resp = await fetcher.post_json(url.partition(":")[2], asdict(event))
                return None if resp.status_code < 300 else f"HTTP {resp.status_code}"
            await asyncio.to_thread(
                _apprise_send,
                url,
                subject(event),
                body(event, settings.dashboard_url),
                fetcher.settings.allow_private_addresses,
                settings.send_timeout,
            )
            return None
    except TimeoutError:
        return f"no answer within {settings.send_timeout:g}s"
    except FetchError as e:
        return f"{e.phase}: {e.message}"
    except Exception as e:  # a target's library failing must not stop the others
        return str(e) or type(e).__name__


def kabupaten_targets(settings: AlertSettings) -> list[str]:
    """Targets that get every event: the legacy webhook and e-mail keys, then `targets`."""
    out = [legacy_webhook(settings.webhook_url)] if settings.webhook_url else []
    if email := settings.legacy_email_url():
        out.append(email)
    return [*out, *settings.targets]


async def send_alerts(
    settings: AlertSettings, events: Sequence[AlertEvent], fetcher: Fetcher
) -> int:
    """Deliver events at once to every kabupaten-wide target, unrecorded (the alerts job
    records its sends); returns deliveries that succeeded."""
    delivered = 0
    for url in kabupaten_targets(settings):
        for e in events:
            if (why := await send_one(url, e, settings, fetcher)) is None:
                delivered += 1
            else:
                log.error("village=%s: alert to %s failed: %s", e.village_code,
                          target_label(url), why)  # fmt: skip
    return delivered
