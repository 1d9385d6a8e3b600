"""Redirects and scripts read statically (no JS is run): meta refresh and JS redirects off-site
(P11, D5), client-side cloakers (P10, M4), scripts from free hosts (P10).
"""

from __future__ import annotations

import base64
import binascii
import re

from aggregator.integrity.domains import (
    gambling_url,
    host_of,
    is_allowlisted,
    is_free_host,
    is_official,
    same_site,
)
from aggregator.integrity.normalise import excerpt
from aggregator.integrity.page import Page
from aggregator.integrity.signals import Signal, signal

_JS_TARGET = re.compile(
    r"""(?:location(?:\.href)?\s*=|location\.(?:replace|assign)\()\s*['"]([^'"]+)['"]"""
)
_URL = re.compile(r"""https?://[^\s'"<>()\\]+""")
_ATOB = re.compile(r"""atob\(\s*['"]([A-Za-z0-9+/=]{8,})['"]\s*\)""")
_CHAR_CODES = re.compile(r"fromCharCode\(\s*([\d\s,]+)\)")
_CHECKS = ("document.referrer", "navigator.useragent", "navigator.webdriver", "navigator.language")
# Navigation or whole-page rewrite; a counter's document.write(<img …referrer>) is neither.
_NAVIGATE = re.compile(
    r"location(?:\.href)?\s*=(?!=)|location\.(?:replace|assign)\s*\(|documentelement\."
    r"(?:inner|outer)html|document\.open\(|body\.innerhtml\s*="
)
_WHO = ("google", "bot", "bing", "yahoo", "webdriver", "crawl", "spider")
_OBFUSCATION = ("atob(", "fromcharcode", "_0x", "eval(", "unescape(")
_ONE_LINER = 300  # an injected unconditional redirect is a short script without functions


def script_signals(page: Page, where: str, site_host: str) -> list[Signal]:
    out = _meta_refresh(page, where, site_host)
    for n, script in enumerate(page.scripts, start=1):
        out += _cloaker(script, n, where, site_host) or _js_redirects(script, n, where, site_host)
    free = [src for src in page.script_srcs if is_free_host(host_of(src))]
    if free:
        shown = ", ".join(free[:3])
        out.append(signal("script_free_host", 30, f"script src from a free host: {shown}", where))
    return out


def _offsite(target: str, site_host: str) -> bool:
    host = host_of(target)
    return bool(host) and not same_site(host, site_host)


def _meta_refresh(page: Page, where: str, site_host: str) -> list[Signal]:
    """P11: <meta http-equiv=refresh> to another site; G8 official moves are notes."""
    target = page.refresh
    if not _offsite(target, site_host):
        return []
    host = host_of(target)
    evidence = f"meta http-equiv=refresh → {target}"
    if is_official(host):
        return [signal("moved", 0, evidence, where)]
    if is_allowlisted(host):
        return []
    points = 85 if gambling_url(target) else 70 if is_free_host(host) else 30
    return [signal("meta_refresh_offsite", points, evidence, where)]


def _js_redirects(script: str, n: int, where: str, site_host: str) -> list[Signal]:
    """P11: an inline script sending every visitor to another site."""
    for target in _JS_TARGET.findall(script):
        if not _offsite(target, site_host):
            continue
        host = host_of(target)
        evidence = f'inline script #{n} sets location → {target}: "{excerpt(script, 80)}"'
        if is_free_host(host):
            return [signal("js_redirect_free_host", 70, evidence, where)]
        if gambling_url(target):
            return [signal("js_redirect_offsite", 85, evidence, where)]
        one_liner = len(script) <= _ONE_LINER and "function" not in script
        if one_liner and not is_allowlisted(host):
            return [signal("js_redirect_offsite", 30, evidence, where)]
    return []


def _decoded_urls(script: str) -> list[str]:
    """URLs hidden in base64 (`atob("aHR0cHM6…")`) or `String.fromCharCode(104,116,…)`."""
    decoded: list[str] = []
    for blob in _ATOB.findall(script):
        try:
            decoded.append(base64.b64decode(blob, validate=True).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    for codes in _CHAR_CODES.findall(script):
        numbers = [int(c) for c in re.findall(r"\d+", codes) if int(c) < 0x110000]
        decoded.append("".join(map(chr, numbers)))
    return [u for text in decoded for u in _URL.findall(text)]


def _cloaker(script: str, n: int, where: str, site_host: str) -> list[Signal]:
    """M4 (P10): a script that looks at who is visiting (referrer, user agent, webdriver) and
    rewrites or moves the page, to an off-site or obfuscated target."""
    lowered = script.lower()
    if not any(c in lowered for c in _CHECKS) or not _NAVIGATE.search(lowered):
        return []
    obfuscated = any(o in lowered for o in _OBFUSCATION)
    if not obfuscated and not any(w in lowered for w in _WHO):
        return []
    hidden = _decoded_urls(script)
    urls = [u for u in [*_URL.findall(script), *hidden] if _offsite(u, site_host)]
    urls = [u for u in urls if not is_allowlisted(host_of(u))]
    if not urls and not obfuscated:
        return []
    checks = "/".join(c.split(".")[1] for c in _CHECKS if c in lowered)
    gambling = [u for u in urls if gambling_url(u) or is_free_host(host_of(u))]
    target = (gambling or urls or ["(obfuscated)"])[0]
    how = "decoded " if target in hidden else ""
    evidence = (
        f"inline script #{n} checks {checks} and rewrites/redirects → {how}{target}: "
        f'"{excerpt(script, 90)}"'
    )
    return [signal("js_cloaking", 60 if gambling else 30, evidence, where)]
