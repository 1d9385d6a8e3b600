"""Keamanan Digital (docs/design.md): passive checks of a village site (headers, mixed content) and
its 0–100 score, a pure function of `SecurityFacts` with a reason per component.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from aggregator.decide.scoring import Score
from aggregator.yardsticks.common import Part, combine
from aggregator.yardsticks.releases import VersionCheck

HEADER_LABELS = {
    "hsts": "HSTS",
    "nosniff": "X-Content-Type-Options",
    "frame": "X-Frame-Options",
    "referrer": "Referrer-Policy",
}
CERT_PROBLEM_TEXT = {
    "expired": "Sertifikat HTTPS sudah kedaluwarsa",
    "not_yet_valid": "Sertifikat HTTPS belum berlaku",
    "wrong_name": "Sertifikat HTTPS dibuat untuk nama situs lain",
    "self_signed": "Sertifikat HTTPS dibuat sendiri (tidak dipercaya peramban)",
    "untrusted": "Sertifikat HTTPS tidak dipercaya peramban",
}
# Subresources a browser loads with the page (links to other pages are not mixed content).
_SUBRESOURCES = (
    ("img", "src"),
    ("script", "src"),
    ("iframe", "src"),
    ("frame", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("input", "src"),
)
_LINK_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "manifest"}
MAX_MIXED_URLS = 20  # enough to show the officer where to look; the count stays exact


@dataclass(frozen=True)
class SecuritySettings:
    """Weights are relative; `version_grace` releases behind still earn the whole component."""

    weight_https: float = 25.0
    weight_certificate: float = 20.0
    weight_platform: float = 20.0
    weight_integrity: float = 10.0
    weight_domain: float = 10.0
    weight_headers: float = 10.0
    weight_mixed: float = 5.0
    version_grace: int = 3
    version_worst: int = 24  # this many releases behind (two years) earns nothing
    compromised_penalty: float = 0.5


@dataclass(frozen=True)
class SecurityFacts:
    """What the security score needs; None means "could not tell", never "bad"."""

    has_site: bool
    https_offered: bool | None
    https_enforced: bool | None  # http:// redirects to https:// (None: not known)
    cert_problem: str | None = None  # a tlsprobe problem when the certificate fails
    cert_days_left: int | None = None
    cert_names: tuple[str, ...] = ()
    cert_issuer: str | None = None
    platform: str | None = None
    version: VersionCheck | None = None
    headers: Mapping[str, bool] | None = None  # HEADER_LABELS key -> present
    mixed_content: int | None = None  # http:// subresources; None unless the page was https
    mixed_urls: tuple[str, ...] = ()
    open_findings: int = 0
    domain: str | None = None
    domain_days_left: int | None = None


def check_headers(headers: Mapping[str, str], *, https: bool) -> dict[str, bool]:
    """Which basic security headers a response carries (names lower-cased, as FetchResponse)."""
    hsts = headers.get("strict-transport-security", "").lower()
    csp = headers.get("content-security-policy", "").lower()
    xfo = headers.get("x-frame-options", "").strip().lower()
    referrer = headers.get("referrer-policy", "").strip().lower()
    # Browsers ignore HSTS sent over plain http (RFC 6797 §8.1), and max-age=0 switches it off.
    max_age = next(
        (
            p.split("=", 1)[1].strip(' "')
            for p in hsts.split(";")
            if p.strip().startswith("max-age")
        ),
        "0",
    )
    return {
        "hsts": https and max_age.isdigit() and int(max_age) > 0,
        "nosniff": headers.get("x-content-type-options", "").strip().lower() == "nosniff",
        "frame": xfo in ("deny", "sameorigin") or "frame-ancestors" in csp,
        "referrer": bool(referrer) and referrer != "unsafe-url",
    }


def find_mixed_content(page: bytes | str, page_url: str) -> tuple[int, tuple[str, ...]]:
    """(count, first urls) of http:// subresources on an https page; (0, ()) otherwise."""
    if urlsplit(page_url).scheme != "https":
        return 0, ()
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    tree = LexborHTMLParser(text)
    found: list[str] = []

    def add(raw: str | None) -> None:
        url = urljoin(page_url, (raw or "").strip())
        if urlsplit(url).scheme == "http":
            found.append(url)

    attrs = dict(_SUBRESOURCES)
    for node in tree.css(", ".join((*attrs, "link"))):  # one pass: document order
        tag = node.tag or ""
        if tag == "link":
            rels = set((node.attributes.get("rel") or "").lower().split())
            if rels & _LINK_RELS:
                add(node.attributes.get("href"))
            continue
        add(node.attributes.get(attrs.get(tag, "src")))
        for candidate in (node.attributes.get("srcset") or "").split(","):
            if candidate.strip():
                add(candidate.strip().split(" ")[0])
    unique = tuple(dict.fromkeys(found))
    return len(unique), unique[:MAX_MIXED_URLS]


def _expiry_value(days: int) -> float:
    if days < 0:
        return 0.0
    if days < 7:
        return 0.25
    if days < 14:
        return 0.5
    if days < 30:
        return 0.75
    return 1.0


def _https(f: SecurityFacts) -> tuple[float | None, str]:
    if f.https_offered is None:
        return None, "HTTPS belum bisa diperiksa"
    if not f.https_offered:
        return 0.0, "Situs belum bisa dibuka lewat HTTPS"
    if f.https_enforced is None:
        return 0.75, "HTTPS tersedia; pengalihan dari http:// belum bisa diperiksa"
    if not f.https_enforced:
        return 0.5, "HTTPS tersedia, tetapi kunjungan lewat http:// tidak dialihkan ke https://"
    return 1.0, "HTTPS tersedia dan kunjungan lewat http:// dialihkan ke https://"


def _certificate(f: SecurityFacts) -> tuple[float | None, str]:
    if not f.https_offered:
        return None, "Tidak ada sertifikat HTTPS untuk dinilai"
    days = f.cert_days_left
    if f.cert_problem is not None:
        text = CERT_PROBLEM_TEXT.get(f.cert_problem, "Sertifikat HTTPS tidak sah")
        if f.cert_problem == "expired" and days is not None:
            text += f" sejak {-days} hari lalu" if days < 0 else ""
        elif f.cert_problem == "wrong_name" and f.cert_names:
            text += " (" + ", ".join(f.cert_names[:3]) + ")"
        return 0.0, text
    if days is None:
        return None, "Masa berlaku sertifikat tidak terbaca"
    issuer = f" dari {f.cert_issuer}" if f.cert_issuer else ""
    return _expiry_value(days), f"Sertifikat sah{issuer}, berlaku {days} hari lagi"


def _platform(f: SecurityFacts, s: SecuritySettings) -> tuple[float | None, str]:
    v = f.version
    if v is None:
        if f.platform and f.platform != "opensid":
            return None, f"Versi {f.platform} tidak dibandingkan (daftar rilis hanya OpenSID)"
        return None, "Versi platform tidak diketahui"
    if v.behind <= s.version_grace:
        extra = " (lebih baru dari daftar rilis)" if v.newer_than_list else ""
        return 1.0, f"OpenSID {v.label}: terbaru atau hampir terbaru{extra}"
    span = max(1, s.version_worst - s.version_grace)
    value = max(0.0, 1 - (v.behind - s.version_grace) / span)
    return value, f"OpenSID {v.label} tertinggal {v.behind} rilis dari {v.newest_label}"


def _headers(f: SecurityFacts) -> tuple[float | None, str]:
    if f.headers is None:
        return None, "Header halaman depan tidak terbaca"
    missing = [HEADER_LABELS[k] for k in HEADER_LABELS if not f.headers.get(k)]
    present = len(HEADER_LABELS) - len(missing)
    reason = f"{present} dari {len(HEADER_LABELS)} header keamanan"
    if missing:
        reason += "; belum ada: " + ", ".join(missing)
    return present / len(HEADER_LABELS), reason


def _mixed(f: SecurityFacts) -> tuple[float | None, str]:
    if f.mixed_content is None:
        return None, "Halaman depan tidak dibuka lewat HTTPS"
    if f.mixed_content == 0:
        return 1.0, "Tidak ada konten campuran (http://) di halaman https"
    return 0.0, f"{f.mixed_content} sumber http:// dimuat di halaman https"


def _integrity(f: SecurityFacts) -> tuple[float | None, str]:
    if f.open_findings <= 0:
        return 1.0, "Tidak ada temuan integritas terbuka"
    return 0.0, f"{f.open_findings} temuan integritas terbuka (situs disusupi)"


def _domain(f: SecurityFacts) -> tuple[float | None, str]:
    days = f.domain_days_left
    if f.domain is None:
        return None, "Bukan nama domain terdaftar (.id)"
    if days is None:
        return None, f"Masa aktif domain {f.domain} tidak terbaca"
    if days < 0:
        return 0.0, f"Domain {f.domain} kedaluwarsa sejak {-days} hari lalu"
    return _expiry_value(days), f"Domain {f.domain} aktif {days} hari lagi"


def _part(key: str, label: str, weight: float, result: tuple[float | None, str]) -> Part:
    return Part(key, label, result[0], weight, result[1])


def score_security(facts: SecurityFacts, settings: SecuritySettings) -> Score:
    """The Keamanan Digital score of one village, every component explained."""
    if not facts.has_site:
        return Score(0.0, (), penalty="Belum ada situs desa: skor 0")
    s = settings
    parts = [
        _part("https", "HTTPS", s.weight_https, _https(facts)),
        _part("certificate", "Sertifikat", s.weight_certificate, _certificate(facts)),
        _part("platform", "Versi platform", s.weight_platform, _platform(facts, s)),
        _part("integrity", "Integritas", s.weight_integrity, _integrity(facts)),
        _part("domain", "Domain", s.weight_domain, _domain(facts)),
        _part("headers", "Header keamanan", s.weight_headers, _headers(facts)),
        _part("mixed_content", "Konten campuran", s.weight_mixed, _mixed(facts)),
    ]
    penalty = s.compromised_penalty if facts.open_findings > 0 else 0.0
    why = f"Situs disusupi (temuan integritas terbuka): skor dikurangi {penalty:.0%}"
    return combine(parts, penalty=penalty, penalty_reason=why)
