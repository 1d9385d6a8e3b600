"""Keterbukaan Informasi (docs/design.md): from what a village site publishes to `KipFacts` (PPID
documents by PerKI category, the information a village must publish, each found or missing
with its url), and the 0–100 KIP score, a pure function of those facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from aggregator.decide.scoring import Score, days_ago, decay
from aggregator.yardsticks.common import Part, combine, local_year, tanggal
from aggregator.yardsticks.kip_parse import (
    CATEGORIES,
    CATEGORY_LABELS,
    DocumentPage,
    PpidDocument,
)

REQUIRED = ("apbdes", "realisasi", "peraturan", "profil", "struktur", "perangkat")
# Statuses of a required item: found; stale (published, but not for the current period);
# missing; unknown (nothing we could read says either way: left out of the score).
STATUSES = ("found", "stale", "missing", "unknown")
PUBLIC_CATEGORIES = CATEGORIES[:3]  # dikecualikan documents are not published information
_APBDES = re.compile(
    r"\bapb\s*des|\bapb\s*desa\b|anggaran\s+pendapatan\s+(?:dan\s+)?belanja\s+desa", re.I
)
_REALISASI = re.compile(r"realisasi|\blpj\b|pertanggung\s*jawaban", re.I)
_PERATURAN = re.compile(
    r"peraturan\s+(?:bersama\s+)?(?:kepala\s+)?desa|\bperdes\b|\bperkades\b", re.I
)
_STRUKTUR = re.compile(r"\bstruktur\s+organisasi|\bsotk\b", re.I)


@dataclass(frozen=True)
class KipSettings:
    """Weights are relative; a stale item earns `stale_value` of its weight."""

    weight_categories: float = 20.0
    weight_freshness: float = 15.0
    weight_apbdes: float = 20.0
    weight_realisasi: float = 15.0
    weight_peraturan: float = 10.0
    weight_profil: float = 7.0
    weight_struktur: float = 7.0
    weight_perangkat: float = 6.0
    fresh_days: float = 183.0  # UU KIP: periodic information at least every six months
    stale_days: float = 730.0
    stale_value: float = 0.3


@dataclass(frozen=True)
class RequiredItem:
    key: str  # one of REQUIRED
    label: str  # "APBDes 2026"
    status: str  # one of STATUSES
    url: str | None  # where it was found
    detail: str  # what was found (or why not), in Bahasa Indonesia
    year: int | None = None


@dataclass(frozen=True)
class KipSources:
    """What the collector read; None = could not be read (a failed request)."""

    ppid: tuple[PpidDocument, ...] | None = None
    informasi_publik: DocumentPage | None = None
    informasi_publik_url: str | None = None  # the page (or menu link) citizens can open
    peraturan: DocumentPage | None = None
    peraturan_url: str | None = None
    home_links: Mapping[str, str] | None = None


@dataclass(frozen=True)
class KipFacts:
    has_site: bool
    year: int  # the current year (WIB): the APBDes that must be out
    documents: tuple[PpidDocument, ...] | None  # PPID documents, None when unreadable
    days_since_document: float | None
    informasi_publik_url: str | None
    items: tuple[RequiredItem, ...]

    def category_counts(self) -> dict[str, int] | None:
        if self.documents is None:
            return None
        counts = dict.fromkeys((*CATEGORIES, "lainnya"), 0)
        for doc in self.documents:
            counts[doc.category or "lainnya"] += 1
        return counts

    def item(self, key: str) -> RequiredItem | None:
        return next((i for i in self.items if i.key == key), None)


def _doc_detail(doc: PpidDocument) -> str:
    return f"{doc.name} ({tanggal(doc.uploaded_at)})" if doc.uploaded_at else doc.name


def _newest(docs: list[PpidDocument]) -> PpidDocument | None:
    return max(docs, key=lambda d: (d.year or 0, d.uploaded_at.timestamp() if d.uploaded_at else 0))


def _dated_item(
    key: str, label: str, docs: list[PpidDocument], due: int, known: bool, what: str
) -> RequiredItem:
    """An item that must be published for year `due` (or later)."""
    best = _newest(docs) if docs else None
    if best is None:
        status = "missing" if known else "unknown"
        detail = f"Tidak ada {what} di dokumen yang terbaca" if known else "Dokumen tidak terbaca"
        return RequiredItem(key, label, status, None, detail)
    if best.year is not None and best.year >= due:
        return RequiredItem(key, label, "found", best.url, _doc_detail(best), best.year)
    last = f"tahun {best.year}" if best.year else "tanpa tahun"
    return RequiredItem(
        key, label, "stale", best.url, f"Terakhir {last}: {_doc_detail(best)}", best.year
    )


def _link_item(
    key: str, label: str, links: Mapping[str, str] | None, docs: list[PpidDocument]
) -> RequiredItem:
    if links is not None and key in links:
        return RequiredItem(key, label, "found", links[key], "Tertaut atau tampil di halaman depan")
    if docs:
        return RequiredItem(key, label, "found", docs[0].url, _doc_detail(docs[0]))
    if links is None:
        return RequiredItem(key, label, "unknown", None, "Halaman depan tidak terbaca")
    return RequiredItem(key, label, "missing", None, "Tidak ada tautan di halaman depan")


def _peraturan_item(src: KipSources, docs: list[PpidDocument]) -> RequiredItem:
    label = "Peraturan desa"
    listed = list(src.peraturan.documents) if src.peraturan is not None else []
    if listed:
        newest = _newest(listed)
        detail = f"{len(listed)} peraturan; terbaru: {_doc_detail(newest)}" if newest else ""
        return RequiredItem("peraturan", label, "found", src.peraturan_url, detail)
    if regs := [d for d in docs if _PERATURAN.search(d.name)]:
        return RequiredItem("peraturan", label, "found", regs[0].url, _doc_detail(regs[0]))
    if src.peraturan is not None and src.peraturan.readable:
        return RequiredItem("peraturan", label, "missing", None, "Belum ada peraturan desa")
    if src.peraturan is None:
        return RequiredItem("peraturan", label, "unknown", None, "Halaman peraturan tidak terbaca")
    detail = "Daftar peraturan dimuat lewat JavaScript dan tidak terbaca"
    return RequiredItem("peraturan", label, "unknown", src.peraturan_url, detail)


def build_kip_facts(sources: KipSources, now: datetime, *, has_site: bool = True) -> KipFacts:
    """The KIP facts of one village at `now` from what the collector read."""
    year = local_year(now)
    documents = sources.ppid
    if documents is None and sources.informasi_publik and sources.informasi_publik.readable:
        documents = sources.informasi_publik.documents
    docs = list(documents or ())
    regs = list(sources.peraturan.documents) if sources.peraturan else []
    known = documents is not None
    apbdes = [d for d in docs + regs if _APBDES.search(d.name) and not _REALISASI.search(d.name)]
    realisasi = [d for d in docs if _REALISASI.search(d.name)]
    items = (
        _dated_item("apbdes", f"APBDes {year}", apbdes, year, known, "APBDes"),
        _dated_item(
            "realisasi", f"Laporan realisasi APBDes {year - 1}", realisasi, year - 1, known,
            "laporan realisasi",
        ),
        _peraturan_item(sources, docs),
        _link_item("profil", "Profil desa", sources.home_links, []),
        _link_item(
            "struktur", "Struktur organisasi", sources.home_links,
            [d for d in docs if _STRUKTUR.search(d.name)],
        ),
        _link_item("perangkat", "Perangkat desa", sources.home_links, []),
    )  # fmt: skip
    dates = [d.uploaded_at for d in docs if d.uploaded_at is not None]
    days = round((now - max(dates)).total_seconds() / 86400, 1) if dates else None
    page = sources.informasi_publik_url
    if page is None and sources.home_links:
        page = sources.home_links.get("informasi_publik")
    return KipFacts(has_site, year, documents, days, page, items)


# -- score -------------------------------------------------------------------------------


def _categories(f: KipFacts) -> tuple[float | None, str]:
    counts = f.category_counts()
    if counts is None:
        return None, "Daftar dokumen PPID tidak terbaca"
    if not f.documents:
        return 0.0, "Belum ada dokumen PPID"
    covered = sum(1 for c in PUBLIC_CATEGORIES if counts[c])
    parts = [f"{counts[c]} {CATEGORY_LABELS[c]}" for c in CATEGORIES]
    if counts["lainnya"]:
        parts.append(f"{counts['lainnya']} tanpa kategori")
    return covered / len(PUBLIC_CATEGORIES), f"{len(f.documents)} dokumen PPID: " + ", ".join(parts)


def _freshness(f: KipFacts, s: KipSettings) -> tuple[float | None, str]:
    if f.documents is None:
        return None, "Daftar dokumen PPID tidak terbaca"
    d = f.days_since_document
    if d is None:
        return 0.0, "Belum ada dokumen PPID bertanggal"
    value = decay(d, s.fresh_days, s.stale_days)
    return value, f"Dokumen PPID terakhir diunggah {days_ago(d)}"


_ITEM_TEXT = {
    "found": "ada",
    "stale": "belum diperbarui",
    "missing": "belum ada",
    "unknown": "tidak terbaca",
}


def _item(f: KipFacts, key: str, s: KipSettings) -> tuple[float | None, str]:
    item = f.item(key)
    if item is None or item.status == "unknown":
        return None, f"{item.label if item else key}: {item.detail if item else 'tidak terbaca'}"
    value = {"found": 1.0, "stale": s.stale_value}.get(item.status, 0.0)
    return value, f"{item.label} {_ITEM_TEXT[item.status]}. {item.detail}"


def score_kip(facts: KipFacts, settings: KipSettings) -> Score:
    """The Keterbukaan Informasi score of one village, every component explained."""
    if not facts.has_site:
        return Score(0.0, (), penalty="Belum ada situs desa: skor 0")
    s = settings
    raw: list[tuple[str, str, float, tuple[float | None, str]]] = [
        ("categories", "Kategori PPID", s.weight_categories, _categories(facts)),
        ("freshness", "Kebaruan dokumen", s.weight_freshness, _freshness(facts, s)),
        ("apbdes", "APBDes", s.weight_apbdes, _item(facts, "apbdes", s)),
        ("realisasi", "Laporan realisasi", s.weight_realisasi, _item(facts, "realisasi", s)),
        ("peraturan", "Peraturan desa", s.weight_peraturan, _item(facts, "peraturan", s)),
        ("profil", "Profil desa", s.weight_profil, _item(facts, "profil", s)),
        ("struktur", "Struktur organisasi", s.weight_struktur, _item(facts, "struktur", s)),
        ("perangkat", "Perangkat desa", s.weight_perangkat, _item(facts, "perangkat", s)),
    ]
    parts = [Part(key, label, value, weight, reason) for key, label, weight, (value, reason) in raw]
    return combine(parts)
