"""The `settings.alerts` section of the districts file: where alerts go and how often.

Targets are Apprise URLs (one per target: `tgram://bottoken/ChatID`, `mailto://…`,
`json://host/path`, …). `targets` get every event of the kabupaten (Dinkominfo);
`kecamatan: {33.03.01: [url, …]}` gets the events of that kecamatan's villages. The older keys
keep working: `webhook_url` (today's JSON body, through the guarded fetcher) and
`smtp_host`/`email_to` (e-mail, sent through Apprise) are kabupaten-wide targets.

Parsing reports every problem as `file:line: field: problem`, like the rest of the config;
`aggregator.settings` hands this module its problem list and line lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass, fields, replace
from typing import Any, NamedTuple
from urllib.parse import quote

AddProblem = Callable[[int, str, str], None]
LineOf = Callable[[object, str | None], int]


class ConfigHooks(NamedTuple):
    """What the districts-file parser lends this section (no import of it here)."""

    add: AddProblem  # (line, field, message)
    line_of: LineOf  # the line of a mapping, or of one of its keys
    check_url: Callable[[str], str | None]  # why an http(s) URL is unusable, or None
    duration: Callable[[object], float]  # seconds from "20s", "12h", …


# Monday is 0, as datetime.weekday() counts.
DAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_KEC_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (`settings.alerts`); every key optional."""

    webhook_url: str = ""  # today's JSON body, kabupaten-wide
    smtp_host: str = ""  # with email_to: e-mail to these addresses, kabupaten-wide
    smtp_port: int = 25
    email_from: str = "sipande@localhost"
    email_to: tuple[str, ...] = ()
    dashboard_url: str = ""  # links in alerts point here (base_url when not set)
    targets: tuple[str, ...] = ()  # Apprise URLs: every event of the kabupaten
    kecamatan: tuple[tuple[str, tuple[str, ...]], ...] = ()  # code -> Apprise URLs
    digest_day: int | None = 0  # weekday of the weekly digest (0 = Senin); None = off
    digest_hour: int = 7  # hour (WIB) from which the digest goes out on that day
    rate_limit: int = 20  # messages per target per hour; the rest wait their turn
    dedupe_window: float = 12 * 3600.0  # the same event for the same target: once per window
    send_timeout: float = 20.0  # one send to one target, seconds

    def legacy_email_url(self) -> str:
        """The `smtp_host`/`email_to` keys as an Apprise mailto URL ("" when not set)."""
        if not (self.smtp_host and self.email_to):
            return ""
        to = ",".join(quote(a, safe="@") for a in self.email_to)
        host = f"[{self.smtp_host}]" if ":" in self.smtp_host else self.smtp_host
        return f"mailto://{host}:{self.smtp_port}?from={quote(self.email_from, safe='@')}&to={to}"

    def kecamatan_targets(self, code: str) -> tuple[str, ...]:
        return next((urls for kec, urls in self.kecamatan if kec == code), ())


def apprise_problem(url: str) -> str | None:
    """Why Apprise cannot use `url` as a target, or None."""
    import apprise

    if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url.strip()):
        return "must be one Apprise URL without spaces (e.g. tgram://bottoken/ChatID)"
    if apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True) is None:
        return f"{_masked(url)} is not an alert target Apprise understands"
    return None


def _masked(url: str) -> str:
    """The scheme and a hint of the rest: tokens in a URL must not end up in logs."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest[:3]}…" if rest else repr(url[:12])


def _urls(value: object, where: str, line: int, add: AddProblem) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        why = apprise_problem(item) if isinstance(item, str) else "must be an Apprise URL"
        if why:
            add(line, where, why)
        else:
            out.append(str(item).strip())
    return tuple(out)


def _kecamatan(value: object, where: str, line_of: LineOf, add: AddProblem) -> Any:
    if not isinstance(value, dict):
        add(line_of(value, None), where, "must map kecamatan codes to Apprise URLs")
        return ()
    out = []
    for code, urls in value.items():
        line = line_of(value, code)
        if not _KEC_CODE.match(str(code)):
            add(line, f"{where}.{code}", f"{code!r} is not a kecamatan code like 33.03.01")
            continue
        out.append((str(code), _urls(urls, f"{where}.{code}", line, add)))
    return tuple(out)


def _day(value: object) -> int | None:
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "")):
        return None
    if isinstance(value, str) and value.strip().lower() in DAYS:
        return DAYS[value.strip().lower()]
    raise ValueError(f"must be a day (senin … minggu) or off, got {value!r}")


def _whole(value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"must be a whole number from {lo} to {hi}, got {value!r}")
    return value


def unknown_regions(raw_settings: object, known: Container[str], hooks: ConfigHooks) -> None:
    """Report kecamatan codes in `settings.alerts.kecamatan` that the file does not have."""
    alerts = raw_settings.get("alerts") if isinstance(raw_settings, dict) else None
    regions = alerts.get("kecamatan") if isinstance(alerts, dict) else None
    for code in regions if isinstance(regions, dict) else ():
        if _KEC_CODE.match(str(code)) and str(code) not in known:
            where = f"settings.alerts.kecamatan.{code}"
            hooks.add(
                hooks.line_of(regions, code), where, "no kecamatan with this code in the file"
            )


def load_alerts(raw: object, line: int, hooks: ConfigHooks) -> AlertSettings:
    """Parse `settings.alerts`; every problem goes to `hooks.add(line, field, message)`."""
    add, line_of = hooks.add, hooks.line_of
    if not isinstance(raw, dict):
        add(line, "settings.alerts", "must be a mapping")
        return AlertSettings()
    known = {f.name for f in fields(AlertSettings)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        where, at = f"settings.alerts.{key}", line_of(raw, key)
        try:
            if key not in known:
                raise ValueError(f"unknown (known: {', '.join(sorted(known))})")
            if key == "targets":
                changes[key] = _urls(value, where, at, add)
            elif key == "kecamatan":
                changes[key] = _kecamatan(value, where, line_of, add)
            elif key == "digest_day":
                changes[key] = _day(value)
            elif key == "digest_hour":
                changes[key] = _whole(value, 0, 23)
            elif key == "rate_limit":
                changes[key] = _whole(value, 1, 10_000)
            elif key in ("dedupe_window", "send_timeout"):
                changes[key] = hooks.duration(value)
            elif key == "smtp_port":
                changes[key] = _whole(value, 1, 65535)
            elif key == "email_to":
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) and "@" in v for v in items):
                    raise ValueError("must be an address or a list of addresses")
                changes[key] = tuple(items)
            elif not isinstance(value, str):
                raise ValueError(f"must be text, got {value!r}")
            elif (
                key in ("webhook_url", "dashboard_url")
                and value
                and (why := hooks.check_url(value))
            ):
                raise ValueError(f"{value!r} {why}")
            else:
                changes[key] = value
        except ValueError as e:
            add(at, where, str(e))
    result = replace(AlertSettings(), **changes)
    if result.legacy_email_url() and (why := apprise_problem(result.legacy_email_url())):
        add(line_of(raw, "email_to"), "settings.alerts.email_to", why)
    return result
