"""Deterministic service data of an OpenSID village: lapak, pembangunan, pengaduan, officials
(positions only, no personal data), PPID documents, the web menu and the visitor counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .content import slugify, village_rng
from .model import WIB, SimVillage

# Pages OpenSID shows only when the admin linked them in the web menu (404 otherwise).
GATED = ("lapak", "pembangunan", "pengaduan", "pemerintah")
MENU_SHARE = 0.75
SERVICE_KEYS = ("lapak", "ppid", "pengaduan", "pembangunan", "pemerintah", "kehadiran")

PRODUCTS = (
    ("Knalpot Racing Custom", "Otomotif", "pcs", 350_000),
    ("Bulu Mata Palsu Handmade", "Kerajinan", "lusin", 45_000),
    ("Gula Kelapa Kristal", "Makanan", "kg", 28_000),
    ("Keripik Singkong Pedas", "Makanan", "paket", 15_000),
    ("Madu Klanceng", "Minuman", "pcs", 120_000),
    ("Kopi Robusta Bubuk", "Minuman", "gram", 35_000),
    ("Anyaman Bambu", "Kerajinan", "pcs", 60_000),
    ("Rambut Palsu (Wig)", "Kerajinan", "pcs", 250_000),
    ("Tempe Mendoan Mentah", "Makanan", "paket", 10_000),
    ("Nopia Mini", "Makanan", "paket", 20_000),
    ("Sapu Ijuk", "Rumah Tangga", "pcs", 25_000),
    ("Bibit Durian Bawor", "Pertanian", "pcs", 75_000),
)
PROJECTS = (
    "Pembangunan Talud {dusun}",
    "Pengaspalan Jalan {dusun}",
    "Rehab Gedung Posyandu",
    "Pembangunan Saluran Irigasi {dusun}",
    "Betonisasi Jalan Usaha Tani",
    "Pembangunan Jembatan {dusun}",
    "Pemasangan Lampu Penerangan Jalan",
    "Pembangunan Sumur Bor Air Bersih",
)
COMPLAINTS = (
    "Lampu penerangan jalan di RT {rt} padam",
    "Saluran air tersumbat di {dusun}",
    "Jalan berlubang menuju {dusun}",
    "Permohonan informasi jadwal posyandu",
    "Pelayanan surat pengantar kurang cepat",
    "Sampah menumpuk di dekat jembatan",
)
STATUS_PENGADUAN = {1: "Menunggu Diproses", 2: "Sedang Diproses", 3: "Selesai Diproses"}
POSITIONS = (
    "Sekretaris Desa",
    "Kaur Keuangan",
    "Kaur Perencanaan",
    "Kaur Tata Usaha dan Umum",
    "Kasi Pemerintahan",
    "Kasi Kesejahteraan",
    "Kasi Pelayanan",
    "Kepala Dusun I",
    "Kepala Dusun II",
    "Kepala Dusun III",
)
ABSENCES = ("Belum Rekam Kehadiran", "Dinas Luar", "Izin", "Sakit", "Lupa Melapor Keluar")
DOCUMENTS = (
    ("Peraturan Desa tentang APBDes Tahun {tahun}", "Informasi Berkala"),
    ("Laporan Realisasi APBDes Tahun {lalu}", "Informasi Berkala"),
    ("RKPDes Tahun {tahun}", "Informasi Berkala"),
    ("LKPPD Tahun {lalu}", "Informasi Setiap Saat"),
    ("Daftar Informasi Publik", "Informasi Setiap Saat"),
    ("SK Kepala Desa tentang PPID Desa", "Informasi Setiap Saat"),
    ("Prosedur Permohonan Informasi", "Informasi Serta Merta"),
    ("Laporan Penggunaan Dana Desa Tahap I", "Informasi Berkala"),
)


@dataclass(frozen=True)
class Product:
    id: int
    nama: str
    kategori: str
    satuan: str
    harga: int
    potongan: int  # percent


@dataclass(frozen=True)
class Project:
    id: int
    judul: str
    slug: str
    tahun: int
    anggaran: int
    persentase: int
    created_at: datetime


@dataclass(frozen=True)
class Complaint:
    id: int
    judul: str
    status: int  # 1 menunggu, 2 sedang, 3 selesai
    created_at: datetime


@dataclass(frozen=True)
class Official:
    """A position in the village government; names are placeholders, never real people."""

    id: int
    jabatan: str
    kehadiran: bool  # the official uses the attendance app, so the page shows a badge
    status: str  # today's status_kehadiran: "Hadir" or one of ABSENCES

    @property
    def nama(self) -> str:
        return f"Nama {self.jabatan}"


@dataclass(frozen=True)
class Document:
    id: int
    nama: str
    kategori: str
    tahun: int
    tgl_upload: datetime


@dataclass(frozen=True)
class Visitors:
    today: int
    yesterday: int
    total: int

    def as_dict(self) -> dict[str, int]:
        return {"today": self.today, "yesterday": self.yesterday, "total": self.total}


@dataclass(frozen=True)
class Services:
    """What a village's OpenSID service pages and JSON show."""

    menu: frozenset[str]  # gated pages linked in the web menu (the others answer 404)
    products: tuple[Product, ...]
    projects: tuple[Project, ...]
    complaints: tuple[Complaint, ...]
    officials: tuple[Official, ...]
    documents: tuple[Document, ...]

    def counts(self) -> dict[str, int | None]:
        """Items each page shows (None when the page 404s); kehadiran = "Hadir" badges."""
        shown = {
            "lapak": len(self.products),
            "pembangunan": len(self.projects),
            "pengaduan": len(self.complaints),
            "pemerintah": len(self.officials),
        }
        out: dict[str, int | None] = {k: (v if k in self.menu else None) for k, v in shown.items()}
        out["ppid"] = len(self.documents)
        hadir = sum(1 for o in self.officials if o.kehadiran and o.status == "Hadir")
        out["kehadiran"] = hadir if "pemerintah" in self.menu else None
        return {key: out[key] for key in SERVICE_KEYS}


def visitors(seed: int, code: str) -> Visitors:
    """The visitor counter the site's widget shows (constant for a seed)."""
    rng = village_rng(seed, code, "visitors")
    today, total = rng.randint(5, 300), rng.randint(8_000, 350_000)
    return Visitors(today, rng.randint(5, 300), total)


def _day(rng_days: float, now: datetime) -> datetime:
    moment = (now - timedelta(days=rng_days)).astimezone(WIB)
    return moment.replace(hour=8 + int(rng_days * 7) % 8, minute=int(rng_days * 60) % 60, second=0)


def generate_services(village: SimVillage, seed: int, now: datetime) -> Services:
    """Service data for one village at `now` (attendance changes with the day)."""
    rng = village_rng(seed, village.code, "services")
    menu = frozenset(page for page in GATED if rng.random() < MENU_SHARE)
    year = now.astimezone(WIB).year
    products = tuple(
        Product(i + 1, nama, kategori, satuan, harga, rng.choice((0, 0, 5, 10)))
        for i, (nama, kategori, satuan, harga) in enumerate(
            rng.sample(PRODUCTS, k=rng.randint(0, 9))
        )
    )
    dusun = ("Dusun I", "Dusun II", "Dusun III", "RW 02", "RW 04")
    projects = []
    for i, template in enumerate(rng.sample(PROJECTS, k=rng.randint(1, 6))):
        title = template.format(dusun=rng.choice(dusun))
        created = _day(rng.uniform(5, 400), now)
        anggaran = rng.randrange(20, 400) * 1_000_000
        projects.append(
            Project(
                i + 1, title, slugify(title), created.year, anggaran, rng.randint(0, 100), created
            )
        )
    projects.sort(key=lambda p: p.created_at, reverse=True)
    complaints = sorted(
        (
            Complaint(
                i + 1,
                rng.choice(COMPLAINTS).format(
                    rt=f"{rng.randint(1, 9):02d}", dusun=rng.choice(dusun)
                ),
                rng.choice((1, 2, 3, 3)),
                _day(rng.uniform(1, 200), now),
            )
            for i in range(rng.randint(0, 8))
        ),
        key=lambda c: c.created_at,
        reverse=True,
    )
    head = "Lurah" if village.type == "kelurahan" else "Kepala Desa"
    positions = (head, *POSITIONS[: rng.randint(5, len(POSITIONS))])
    day = village_rng(seed, village.code, f"hadir:{now.astimezone(WIB).date()}")
    officials = []
    for i, jabatan in enumerate(positions):
        badge = day.random() < 0.6
        status = "Hadir" if day.random() < 0.6 else day.choice(ABSENCES)
        officials.append(Official(i + 1, jabatan, badge, status if badge else ABSENCES[0]))
    documents = tuple(
        Document(
            i + 1,
            nama.format(tahun=year, lalu=year - 1),
            kategori,
            year if "{tahun}" in nama else year - 1,
            _day(rng.uniform(3, 300), now),
        )
        for i, (nama, kategori) in enumerate(rng.sample(DOCUMENTS, k=rng.randint(0, 6)))
    )
    return Services(menu, products, tuple(projects), tuple(complaints), tuple(officials), documents)
