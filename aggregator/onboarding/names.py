"""Normalising what officers type: village and kecamatan names, Kemendagri codes, site urls."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

_NAME_PREFIX = re.compile(r"^(?:desa|kelurahan|kel|ds|kec|kecamatan)\b\.?\s*", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"\D+")
_DOTTED = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def ascii_lower(text: str) -> str:
    """Lowercase ASCII: accents dropped ("Kéboan" and "Keboan" are one name)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def name_key(name: str) -> str:
    """The form two spellings of one name share: no "Desa"/"Kel."/"Kecamatan" prefix, no
    spaces or punctuation ("Karang Tengah" and "Desa Karangtengah" are the same village)."""
    text = ascii_lower(name).strip()
    while True:
        stripped = _NAME_PREFIX.sub("", text, count=1).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return _NON_ALNUM.sub("", text)


def slug(name: str, sep: str = "") -> str:
    """A host-name label from a name: "Karang Tengah" -> "karangtengah" (or "karang-tengah")."""
    words = _NON_ALNUM.split(ascii_lower(name))
    return sep.join(w for w in words if w)


def village_code(raw: object) -> str | None:
    """A dotted village code from "33.03.01.2001", "3303012001" or the number 3303012001
    (spreadsheets drop the dots); None when it is not a 10-digit code."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    if _DOTTED.match(text):
        return text
    digits = _DIGITS.sub("", text)
    if len(digits) != 10 or not re.fullmatch(r"[\d.\s-]+", text):
        return None
    return f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:]}"


def site_url(raw: object) -> tuple[str, str | None]:
    """(url, problem): a usable http(s) url from what a row holds, or the reason it is not.

    A bare host ("kedungbenda.desa.id") gets https:// (what desa.id hosting serves today) and
    an empty path gets "/", so the same site is written the same way whatever was typed.
    """
    text = "" if raw is None else str(raw).strip()
    if not text:
        return "", None
    if any(c.isspace() for c in text):
        return text, "contains whitespace"
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        return text, "must start with http:// or https://"
    if not parts.hostname or "." not in parts.hostname:
        return text, "has no host name"
    try:
        _ = parts.port
    except ValueError:
        return text, "has an invalid port"
    netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, "")), None
