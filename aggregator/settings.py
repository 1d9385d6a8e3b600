"""Load and validate `config/districts.yaml` (docs/design.md) into frozen settings.

Every problem is reported with the file, line and field, and all problems at once, so an
officer fixing a 239-village file sees every mistake in one run.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from aggregator.alerts.config import AlertSettings as AlertSettings  # re-exported
from aggregator.alerts.config import ConfigHooks, load_alerts, unknown_regions
from aggregator.decide.scoring import ScoringSettings
from aggregator.errors import ConfigError

PLATFORMS = ("auto", "opensid", "wordpress", "feed", "html")
# Keys of one `html_rules` entry: CSS selectors (item is required, the rest are relative to
# one item; `next` is the page's link to older articles) plus `date_format`, a strptime-like
# pattern with Indonesian month/day names.
HTML_RULE_KEYS = (
    "item", "title", "link", "date", "date_format", "summary", "image", "category", "next",
)  # fmt: skip
VILLAGE_TYPES = ("desa", "kelurahan")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_KAB_CODE = re.compile(r"^\d{2}\.\d{2}$")
_KEC_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_VIL_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def parse_duration(value: object) -> float:
    """Seconds from `90`, `20s`, `30m`, `1h`, `2d`; raise ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"not a duration: {value!r} (use e.g. 20s, 30m, 1h, 2d)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return seconds


@dataclass(frozen=True)
class Settings:
    """Tunables; every key optional in the file. Durations are seconds."""

    poll_interval: float = 1800.0
    request_timeout: float = 20.0
    connect_timeout: float = 10.0
    max_body_bytes: int = 15 * 1024 * 1024
    concurrency: int = 64
    allow_private_addresses: bool = False
    max_backoff: float = 86400.0
    dispatch_interval: float = 30.0
    active_days: int = 30
    low_activity_days: int = 90
    unreachable_after: int = 3
    recover_after: int = 2  # good checks in a row before an unreachable village is back up
    keep_checks_days: int = 30
    keep_history_days: int = 730
    min_interval: float = 900.0  # adaptive polling bounds (docs/design.md)
    max_interval: float = 86400.0
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    integrity_interval: float = 6 * 3600.0  # the integrity watch runs this often per village
    integrity_watch: bool = True
    # A new village's service pages and first integrity scan come at its own slot within this
    # long after its first poll (news, home page and backfill at once); 0: all on the first.
    first_read_spread: float = 6 * 3600.0
    yardstick_interval: float = 86400.0  # KIP and security collected this often per village
    rdap_url: str = ""  # RDAP service for domain expiry (e.g. https://rdap.org); "" = off
    # Access control: read views open to all, or to logged-in users only; every
    # action needs a login either way. Secure cookies once the dashboard is served over https.
    public_dashboard: bool = True
    secure_cookies: bool = False  # when absent from the file: on if base_url is https
    alerts: AlertSettings = field(default_factory=lambda: AlertSettings())
    # The dashboard's public origin (https://sipande.example.go.id): absolute links, feeds and
    # alert e-mails are built from it and the request's Host header is ignored. "" = Host.
    base_url: str = ""
    allowed_hosts: tuple[str, ...] = ()  # Host names answered; any other gets 400. () = all
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (the reverse proxy).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)


_ZERO = re.compile(r"0+(?:\.0*)?\s*[smhd]?")  # a duration of nothing: "0", "0s", "0h"
_DURATION_KEYS = {
    "poll_interval",
    "request_timeout",
    "connect_timeout",
    "max_backoff",
    "dispatch_interval",
    "min_interval",
    "max_interval",
    "integrity_interval",
    "first_read_spread",
    "yardstick_interval",
}


@dataclass(frozen=True)
class VillageConfig:
    code: str
    name: str
    type: str
    kecamatan_code: str
    url: str
    platform: str
    line: int = 0
    html_rules: str = ""  # name of an entry in DistrictConfig.html_rules


@dataclass(frozen=True)
class KecamatanConfig:
    code: str
    name: str
    villages: tuple[VillageConfig, ...]
    line: int = 0


@dataclass(frozen=True)
class DistrictConfig:
    kabupaten_code: str
    kabupaten_name: str
    settings: Settings
    kecamatan: tuple[KecamatanConfig, ...]
    path: str = ""
    html_rules: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def villages(self) -> list[VillageConfig]:
        return [v for k in self.kecamatan for v in k.villages]


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


class _Problems:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, line: int, where: str, message: str) -> None:
        self.items.append(f"{self.path}:{line}: {where}: {message}")


def _line(m: object, key: str | None = None) -> int:
    if isinstance(m, _Map):
        return m.key_lines.get(key, m.line) if key else m.line
    return 0


def _str_field(m: _Map, key: str, where: str, problems: _Problems, *, required: bool) -> str:
    value = m.get(key)
    if value is None or value == "":
        if required:
            problems.add(_line(m, key), f"{where}.{key}", "is required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.add(_line(m, key), f"{where}.{key}", f"must be text, got {value!r}")
        return ""
    return str(value).strip()


def _check_keys(m: _Map, allowed: set[str], where: str, problems: _Problems) -> None:
    for key in m:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            problems.add(_line(m, key), f"{where}.{key}", f"unknown field (known: {known})")


def _check_url(url: str) -> str | None:
    """Return why `url` is unusable, or None."""
    if any(c.isspace() for c in url):
        return "contains whitespace"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host name"
    try:
        _ = parts.port
    except ValueError:
        return "has an invalid port"
    return None


def _load_settings(raw: object, problems: _Problems) -> Settings:
    if raw is None:
        return Settings()
    if not isinstance(raw, _Map):
        problems.add(_line(raw), "settings", "must be a mapping")
        return Settings()
    defaults = Settings()
    known = {f.name: f for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        where, line = f"settings.{key}", _line(raw, key)
        if key not in known:
            problems.add(line, where, f"unknown setting (known: {', '.join(sorted(known))})")
            continue
        default = getattr(defaults, key)
        try:
            if key == "scoring":
                changes[key] = _load_scoring(value, line, problems)
            elif key == "alerts":
                hooks = ConfigHooks(problems.add, _line, _check_url, parse_duration)
                changes[key] = load_alerts(value, line, hooks)
            elif key == "first_read_spread" and _ZERO.fullmatch(str(value).strip()):
                changes[key] = 0.0  # everything on a village's first poll
            elif key in _DURATION_KEYS:
                changes[key] = parse_duration(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"must be true or false, got {value!r}")
                changes[key] = value
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ValueError(f"must be a positive whole number, got {value!r}")
                changes[key] = value
            elif isinstance(default, str):
                if not isinstance(value, str):
                    raise ValueError(f"must be text, got {value!r}")
                if value and key.endswith("_url") and (why := _check_url(value)):
                    raise ValueError(f"{value!r} {why}")
                if value and key == "base_url" and (why := _check_origin(value)):
                    raise ValueError(f"{value!r} {why}")
                changes[key] = value
            elif isinstance(default, tuple):
                changes[key] = _text_list(key, value)
        except ValueError as e:
            problems.add(line, where, str(e))
    result = replace(defaults, **changes)
    if result.min_interval > result.max_interval:
        problems.add(_line(raw, "min_interval"), "settings.min_interval", "exceeds max_interval")
    if result.base_url.startswith("https://") and "secure_cookies" not in raw:
        result = replace(result, secure_cookies=True)
    if result.base_url and not result.alerts.dashboard_url:
        result = replace(result, alerts=replace(result.alerts, dashboard_url=result.base_url))
    return result


def _check_origin(url: str) -> str | None:
    """Why `url` is not a bare origin (scheme, host, port), or None."""
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return "must be only scheme, host and port (like https://sipande.example.go.id)"
    return None


def _text_list(key: str, value: object) -> tuple[str, ...]:
    """Host names (allowed_hosts) or addresses and networks (trusted_proxies): one or a list."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"must be text or a list of texts, got {item!r}")
        text = item.strip().lower()
        if key == "trusted_proxies":
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError as e:
                raise ValueError(f"{item!r} is not an address or network") from e
        elif any(c in text for c in " /\\@:"):
            raise ValueError(f"{item!r} is not a host name (no scheme, port or path)")
        out.append(text)
    return tuple(out)


def _load_scoring(raw: object, line: int, problems: _Problems) -> ScoringSettings:
    if not isinstance(raw, _Map):
        problems.add(line, "settings.scoring", "must be a mapping of weights and windows")
        return ScoringSettings()
    known = {f.name for f in fields(ScoringSettings)}
    changes: dict[str, float] = {}
    for key, value in raw.items():
        where = f"settings.scoring.{key}"
        if key not in known:
            problems.add(_line(raw, key), where, f"unknown (known: {', '.join(sorted(known))})")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.add(_line(raw, key), where, f"must be a number >= 0, got {value!r}")
        else:
            changes[key] = float(value)
    return replace(ScoringSettings(), **changes)


def _load_village(
    raw: object, where: str, kec_code: str, problems: _Problems, known_rules: Mapping[str, object]
) -> VillageConfig | None:
    if not isinstance(raw, _Map):
        problems.add(_line(raw), where, "must be a mapping with code, name, url, platform")
        return None
    _check_keys(raw, {"code", "name", "type", "url", "platform", "html_rules"}, where, problems)
    rules = _str_field(raw, "html_rules", where, problems, required=False)
    if rules and rules not in known_rules:
        problems.add(
            _line(raw, "html_rules"), f"{where}.html_rules", f"no html_rules entry named {rules!r}"
        )
    code = _str_field(raw, "code", where, problems, required=True)
    name = _str_field(raw, "name", where, problems, required=True)
    url = _str_field(raw, "url", where, problems, required=False)
    platform = _str_field(raw, "platform", where, problems, required=False) or "auto"
    vtype = _str_field(raw, "type", where, problems, required=False)
    if code and not _VIL_CODE.match(code):
        problems.add(
            _line(raw, "code"), f"{where}.code", f"{code!r} is not a code like 33.03.01.2001"
        )
    elif code and kec_code and not code.startswith(kec_code + "."):
        problems.add(
            _line(raw, "code"), f"{where}.code", f"{code} is not under its kecamatan {kec_code}"
        )
    if url and (why := _check_url(url)):
        problems.add(_line(raw, "url"), f"{where}.url", f"{url!r} {why}")
    if platform not in PLATFORMS:
        problems.add(
            _line(raw, "platform"),
            f"{where}.platform",
            f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})",
        )
    if not vtype and _VIL_CODE.match(code):
        # Kemendagri codes: kelurahan suffixes start with 1, desa with 2.
        vtype = "kelurahan" if code[-4] == "1" else "desa"
    if vtype and vtype not in VILLAGE_TYPES:
        problems.add(_line(raw, "type"), f"{where}.type", f"{vtype!r} is not desa or kelurahan")
    return VillageConfig(code, name, vtype, kec_code, url, platform, raw.line, rules)


def _load_rules(raw: object, problems: _Problems) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, _Map):
        problems.add(_line(raw), "html_rules", "must be a mapping of name -> rules")
        return {}
    out: dict[str, dict[str, str]] = {}
    for name, entry in raw.items():
        where = f"html_rules.{name}"
        if not isinstance(entry, _Map):
            problems.add(_line(raw, name), where, "must be a mapping of rule -> selector")
            continue
        _check_keys(entry, set(HTML_RULE_KEYS), where, problems)
        rules = {
            k: _str_field(entry, k, where, problems, required=k == "item")
            for k in HTML_RULE_KEYS
            if k in entry or k == "item"
        }
        out[str(name)] = {k: v for k, v in rules.items() if v}
    return out


def parse_config(text: str, path: str = "<config>") -> DistrictConfig:
    """Parse and validate a districts file; raise ConfigError listing every problem."""
    problems = _Problems(path)
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise ConfigError([f"{path}:{line}: not valid YAML: {e}"]) from e
    if not isinstance(doc, _Map):
        raise ConfigError([f"{path}:1: the file must be a mapping with kabupaten and kecamatan"])
    _check_keys(doc, {"kabupaten", "settings", "html_rules", "kecamatan"}, "(top)", problems)
    html_rules = _load_rules(doc.get("html_rules"), problems)
    kab = doc.get("kabupaten")
    kab_code = kab_name = ""
    if isinstance(kab, _Map):
        kab_code = _str_field(kab, "code", "kabupaten", problems, required=True)
        kab_name = _str_field(kab, "name", "kabupaten", problems, required=True)
        if kab_code and not _KAB_CODE.match(kab_code):
            problems.add(_line(kab, "code"), "kabupaten.code", f"{kab_code!r} is not like 33.03")
    else:
        problems.add(_line(doc, "kabupaten"), "kabupaten", "is required: {code, name}")
    settings = _load_settings(doc.get("settings"), problems)

    kecamatan: list[KecamatanConfig] = []
    seen: dict[str, int] = {}
    raw_list = doc.get("kecamatan")
    if not isinstance(raw_list, list) or not raw_list:
        problems.add(_line(doc, "kecamatan"), "kecamatan", "must be a non-empty list")
        raw_list = []
    for i, raw in enumerate(raw_list):
        where = f"kecamatan[{i}]"
        if not isinstance(raw, _Map):
            problems.add(_line(doc, "kecamatan"), where, "must be a mapping")
            continue
        _check_keys(raw, {"code", "name", "villages"}, where, problems)
        code = _str_field(raw, "code", where, problems, required=True)
        name = _str_field(raw, "name", where, problems, required=True)
        if code and not _KEC_CODE.match(code):
            problems.add(_line(raw, "code"), f"{where}.code", f"{code!r} is not like 33.03.01")
            code = ""
        elif code and kab_code and not code.startswith(kab_code + "."):
            problems.add(
                _line(raw, "code"), f"{where}.code", f"{code} is not under kabupaten {kab_code}"
            )
        if code in seen:
            problems.add(
                _line(raw, "code"),
                f"{where}.code",
                f"duplicate code {code} (first at line {seen[code]})",
            )
        elif code:
            seen[code] = _line(raw, "code")
        villages: list[VillageConfig] = []
        raw_villages = raw.get("villages") or []
        if not isinstance(raw_villages, list):
            problems.add(_line(raw, "villages"), f"{where}.villages", "must be a list")
            raw_villages = []
        for j, raw_v in enumerate(raw_villages):
            village = _load_village(raw_v, f"{where}.villages[{j}]", code, problems, html_rules)
            if village is None or not village.code:
                continue
            if village.code in seen:
                problems.add(
                    _line(raw_v, "code"),
                    f"{where}.villages[{j}].code",
                    f"duplicate code {village.code} (first at line {seen[village.code]})",
                )
                continue
            seen[village.code] = _line(raw_v, "code")
            villages.append(village)
        kecamatan.append(KecamatanConfig(code, name, tuple(villages), raw.line))
    hooks = ConfigHooks(problems.add, _line, _check_url, parse_duration)
    unknown_regions(doc.get("settings"), seen, hooks)
    if problems.items:
        raise ConfigError(problems.items)
    return DistrictConfig(kab_code, kab_name, settings, tuple(kecamatan), path, html_rules)


def load_config(path: str | Path) -> DistrictConfig:
    """Read and validate a districts file from disk."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{p}:0: cannot read: {e.strerror or e}"]) from e
    except UnicodeDecodeError as e:
        raise ConfigError([f"{p}:0: not UTF-8 text: {e}"]) from e
    return parse_config(text, str(p))
