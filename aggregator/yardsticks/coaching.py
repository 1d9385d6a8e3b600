"""The per-village "Pembinaan" list: concrete to-dos in plain Bahasa Indonesia, most urgent
first, across the three coaching themes (SID activity, Keterbukaan Informasi, Keamanan
Digital). Pure: an item appears only for what the facts show; nothing is coached on an unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aggregator.decide.scoring import SERVICE_KINDS, SERVICE_LABELS, VillageFacts
from aggregator.yardsticks.kip import PUBLIC_CATEGORIES, KipFacts
from aggregator.yardsticks.kip_parse import CATEGORY_LABELS
from aggregator.yardsticks.security import CERT_PROBLEM_TEXT, HEADER_LABELS, SecurityFacts

THEMES = {
    "sid": "Optimalisasi SID",
    "keterbukaan": "Keterbukaan Informasi",
    "keamanan": "Keamanan Digital",
}
# Urgency ranks, most urgent first; equal ranks are ordered by days left, then key.
RANKS = {
    "no_site": 0,
    "integrity": 0,
    "cert_expired": 1,
    "domain_expired": 1,
    "cert_expiring": 2,
    "domain_expiring": 2,
    "cert_invalid": 3,
    "no_https": 4,
    "apbdes": 5,
    "realisasi": 6,
    "platform_version": 7,
    "https_redirect": 8,
    "news": 9,
    "ppid_documents": 10,
    "ppid_categories": 10,
    "ppid_freshness": 10,
    "peraturan": 11,
    "profil": 11,
    "struktur": 11,
    "perangkat": 11,
    "mixed_content": 12,
    "security_headers": 13,
    "services": 14,
}
INTEGRITY_TEXT = (
    "Bersihkan situs dari konten sisipan (judi online/peretasan) dan ganti semua kata sandi admin"
)


@dataclass(frozen=True)
class CoachingSettings:
    cert_days: int = 30  # a certificate this close to expiry is a to-do
    domain_days: int = 60  # domains need the village to pay PANDI: warn earlier
    version_grace: int = 3  # releases behind before "update OpenSID" (as the security score)
    ppid_fresh_days: float = 183.0  # UU KIP: periodic information at least every six months
    news_days: float = 30.0  # docs/design.md: "active" means a post within 30 days


@dataclass(frozen=True)
class CoachingItem:
    key: str  # stable, for exports and for telling lists apart over time
    theme: str  # one of THEMES
    text: str  # the to-do, as an officer would say it
    why: str = ""  # what we saw
    url: str | None = None
    days_left: int | None = None  # for expiries: orders equally urgent items

    @property
    def rank(self) -> int:
        return RANKS.get(self.key, 99)


def _security(f: SecurityFacts, s: CoachingSettings) -> list[CoachingItem]:
    out: list[CoachingItem] = []
    if f.open_findings > 0:
        out.append(
            CoachingItem(
                "integrity",
                "keamanan",
                INTEGRITY_TEXT,
                f"{f.open_findings} temuan integritas terbuka",
            )
        )
    days = f.cert_days_left
    if f.https_offered and f.cert_problem == "expired":
        ago = f" sejak {-days} hari lalu" if days is not None and days < 0 else ""
        out.append(
            CoachingItem(
                "cert_expired",
                "keamanan",
                f"Sertifikat HTTPS sudah kedaluwarsa{ago}: perpanjang segera",
                days_left=days,
            )
        )
    elif f.https_offered and f.cert_problem is not None:
        names = f" (sertifikat untuk {', '.join(f.cert_names[:3])})" if f.cert_names else ""
        out.append(
            CoachingItem(
                "cert_invalid",
                "keamanan",
                "Pasang sertifikat HTTPS yang sah untuk alamat situs desa",
                CERT_PROBLEM_TEXT.get(f.cert_problem, "Sertifikat tidak sah") + names,
            )
        )
    elif f.https_offered and days is not None and days <= s.cert_days:
        out.append(
            CoachingItem(
                "cert_expiring",
                "keamanan",
                f"Sertifikat HTTPS kedaluwarsa dalam {days} hari",
                "Perpanjang sertifikat atau aktifkan perpanjangan otomatis",
                days_left=days,
            )
        )
    if f.https_offered is False:
        out.append(
            CoachingItem(
                "no_https",
                "keamanan",
                "Aktifkan HTTPS di situs desa",
                "Situs belum bisa dibuka lewat https://; sertifikat gratis tersedia",
            )
        )
    elif f.https_offered and f.https_enforced is False:
        out.append(
            CoachingItem(
                "https_redirect",
                "keamanan",
                "Alihkan semua kunjungan http:// ke https://",
                "Situs masih bisa dibuka tanpa enkripsi",
            )
        )
    d = f.domain_days_left
    if f.domain and d is not None and d < 0:
        out.append(
            CoachingItem(
                "domain_expired",
                "keamanan",
                f"Domain {f.domain} sudah kedaluwarsa: perpanjang segera",
                days_left=d,
            )
        )
    elif f.domain and d is not None and d <= s.domain_days:
        out.append(
            CoachingItem(
                "domain_expiring",
                "keamanan",
                f"Domain {f.domain} kedaluwarsa dalam {d} hari",
                "Siapkan perpanjangan domain",
                days_left=d,
            )
        )
    v = f.version
    if v is not None and v.behind > s.version_grace:
        out.append(
            CoachingItem(
                "platform_version",
                "keamanan",
                f"Perbarui OpenSID {v.label} ke versi terbaru ({v.newest_label})",
                f"Tertinggal {v.behind} rilis",
            )
        )
    if f.mixed_content:
        out.append(
            CoachingItem(
                "mixed_content",
                "keamanan",
                f"Ganti {f.mixed_content} alamat http:// di halaman depan menjadi https://",
                ", ".join(f.mixed_urls[:3]),
            )
        )
    if f.headers is not None and (
        missing := [n for k, n in HEADER_LABELS.items() if not f.headers.get(k)]
    ):
        out.append(
            CoachingItem(
                "security_headers",
                "keamanan",
                "Minta pengelola server menambahkan header keamanan: " + ", ".join(missing),
            )
        )
    return out


def _kip(f: KipFacts, s: CoachingSettings) -> list[CoachingItem]:
    out: list[CoachingItem] = []
    texts = {
        "apbdes": f"Unggah APBDes {f.year} ke menu PPID",
        "realisasi": f"Unggah laporan realisasi APBDes {f.year - 1} ke menu PPID",
        "peraturan": "Unggah peraturan desa ke situs (menu Peraturan Desa)",
        "profil": "Tambahkan halaman Profil Desa ke menu situs",
        "struktur": "Tambahkan Struktur Organisasi pemerintah desa ke menu situs",
        "perangkat": "Tampilkan daftar perangkat desa di situs (menu Pemerintah Desa)",
    }
    for item in f.items:
        if item.status in ("missing", "stale") and item.key in texts:
            out.append(
                CoachingItem(item.key, "keterbukaan", texts[item.key], item.detail, item.url)
            )
    counts = f.category_counts()
    if counts is None:
        return out
    if not f.documents:
        out.append(
            CoachingItem(
                "ppid_documents",
                "keterbukaan",
                "Unggah dokumen informasi publik ke menu PPID",
                "Belum ada dokumen PPID",
            )
        )
        return out
    if missing := [CATEGORY_LABELS[c] for c in PUBLIC_CATEGORIES if not counts[c]]:
        out.append(
            CoachingItem(
                "ppid_categories",
                "keterbukaan",
                "Lengkapi dokumen PPID kategori " + ", ".join(missing),
                f"{len(f.documents)} dokumen, belum ada kategori " + ", ".join(missing),
                f.informasi_publik_url,
            )
        )
    days = f.days_since_document
    if days is not None and days > s.ppid_fresh_days:
        out.append(
            CoachingItem(
                "ppid_freshness",
                "keterbukaan",
                "Perbarui dokumen PPID secara berkala (minimal tiap enam bulan)",
                f"Dokumen terakhir diunggah {int(days)} hari lalu",
                f.informasi_publik_url,
            )
        )
    return out


def _activity(f: VillageFacts, s: CoachingSettings) -> list[CoachingItem]:
    out: list[CoachingItem] = []
    d = f.days_since_post
    if d is None:
        out.append(CoachingItem("news", "sid", "Mulai terbitkan berita kegiatan desa"))
    elif d > s.news_days:
        out.append(
            CoachingItem(
                "news",
                "sid",
                "Terbitkan berita kegiatan desa secara rutin",
                f"Berita terakhir {int(d)} hari lalu",
            )
        )
    if f.services and (off := [SERVICE_LABELS[k] for k in SERVICE_KINDS if not f.services.get(k)]):
        out.append(
            CoachingItem("services", "sid", "Aktifkan dan isi layanan di situs: " + ", ".join(off))
        )
    return out


def coaching_list(
    *,
    has_site: bool = True,
    kip: KipFacts | None = None,
    security: SecurityFacts | None = None,
    activity: VillageFacts | None = None,
    settings: CoachingSettings | None = None,
) -> tuple[CoachingItem, ...]:
    """The to-do list of one village, most urgent first."""
    s = settings or CoachingSettings()
    if not has_site:
        return (CoachingItem("no_site", "sid", "Buat situs resmi desa (domain desa.id)"),)
    items: list[CoachingItem] = []
    if security is not None:
        items += _security(security, s)
    if kip is not None:
        items += _kip(kip, s)
    if activity is not None:
        items += _activity(activity, s)
    return most_urgent_first(items)


def most_urgent_first(*lists: Iterable[CoachingItem]) -> tuple[CoachingItem, ...]:
    """One list from several, most urgent first: stored KIP/security items (rebuilt with
    `CoachingItem(**item)` from the report JSON) merged with activity items computed live."""
    items = [i for items in lists for i in items]
    return tuple(sorted(items, key=lambda i: (i.rank, i.days_left or 0, i.key)))
