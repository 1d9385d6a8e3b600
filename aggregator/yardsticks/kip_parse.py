"""Pure readers for Keterbukaan Informasi: PPID documents from OpenSID's `/ppid` (or
`/internal_api/ppid`) JSON, document rows of the informasi-publik and peraturan-desa pages,
and the home-page links that show a profile, organisation structure, officials or regulations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from aggregator.errors import ParseError
from connectors.normalise import html_to_text, normalise_url, parse_indonesian_date

# PerKI 1/2018 categories; OpenSID sends `kategori_info_publik` ids in `/ppid` (its
# KATEGORI_PUBLIK constant: 1 berkala, 2 serta-merta, 3 setiap saat, 4 dikecualikan).
CATEGORIES = ("berkala", "serta_merta", "setiap_saat", "dikecualikan")
CATEGORY_LABELS = {
    "berkala": "berkala",
    "serta_merta": "serta-merta",
    "setiap_saat": "setiap saat",
    "dikecualikan": "dikecualikan",
}
_CATEGORY_IDS = {"1": "berkala", "2": "serta_merta", "3": "setiap_saat", "4": "dikecualikan"}
# A dated article (news): its title may say "peraturan" without being the regulations page.
_ARTICLE = re.compile(r"/artikel/\d{4}/\d{1,2}/\d{1,2}/")
_YEAR = re.compile(r"\b(20\d{2})\b")
_EMPTY_ROW = re.compile(r"tidak ada|belum ada|kosong|no data|tidak ditemukan", re.IGNORECASE)
# What a home-page link (its text or path) shows; first match per key wins.
_LINKS = {
    "profil": re.compile(
        r"profil|sejarah|visi\s*(?:dan|&|-)?\s*misi|identitas\s+desa|tentang\s+desa", re.I
    ),
    "struktur": re.compile(r"\bstruktur|sotk|bagan\s+organisasi|organisasi.{0,5}tata.kerja", re.I),
    "perangkat": re.compile(
        r"perangkat\s+desa|aparatur|pemerintah(?:an)?(?:\s+desa)?\b|pamong|/pemerintah\b", re.I
    ),
    "peraturan": re.compile(r"peraturan|perdes|produk[\s-]+hukum|regulasi", re.I),
    "informasi_publik": re.compile(r"informasi[\s_-]+publik|\bppid\b", re.I),
}
# Sidebar widgets count as published too: OpenSID's "Aparatur Desa" lists the officials.
_WIDGET_TITLES = {"perangkat": re.compile(r"aparatur|perangkat\s+desa", re.I)}


@dataclass(frozen=True)
class PpidDocument:
    name: str
    category: str | None  # one of CATEGORIES, None when the site gives none we know
    year: int | None  # the `tahun` of the document (or the newest year in its name)
    uploaded_at: datetime | None
    url: str | None  # download link


@dataclass(frozen=True)
class DocumentPage:
    """Documents a server-rendered page lists; `readable` False for a JavaScript shell whose
    rows come from another request (2410 DataTables, Blade themes), so 0 rows means nothing."""

    readable: bool
    documents: tuple[PpidDocument, ...]


def category_of(raw: object, *, ids: bool = True) -> str | None:
    """A PerKI category from an OpenSID id ("2", JSON only: in a table it is the row number)
    or a label ("Informasi Serta-merta")."""
    text = str(raw if raw is not None else "").strip().lower()
    if ids and text in _CATEGORY_IDS:
        return _CATEGORY_IDS[text]
    squashed = re.sub(r"[^a-z]", "", text.replace("informasi", ""))
    return next((c for c in CATEGORIES if c.replace("_", "") == squashed), None)


def year_of(name: str, tahun: object = None) -> int | None:
    """The newest year a document name mentions, else its `tahun` field.

    The name wins: "Perdes No 9 Tahun 2025 tentang APBDes 2026" is the 2026 budget, enacted
    the December before.
    """
    years = [int(y) for y in _YEAR.findall(name)]
    if years:
        return max(years)
    text = str(tahun or "").strip()
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else None


def _load(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError("malformed JSON") from e


def _rows(doc: Any) -> list[dict[str, Any]]:
    """Rows of either `/ppid` (`{status, data: {ppid: [...]}}`) or JSON:API."""
    if not isinstance(doc, dict):
        raise ParseError("unexpected JSON shape")
    data = doc.get("data")
    if isinstance(data, list):  # /internal_api/ppid: [{type, id, attributes}]
        return [
            r["attributes"]
            for r in data
            if isinstance(r, dict) and isinstance(r.get("attributes"), dict)
        ]
    if doc.get("status") != "success":
        raise ParseError(f"status {doc.get('status')!r}")
    rows = data.get("ppid") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ParseError("no ppid list")
    return [r for r in rows if isinstance(r, dict)]


def _enabled(value: object) -> bool:
    return value not in (0, "0", False, "")


def parse_ppid_documents(content: bytes, base: str) -> tuple[PpidDocument, ...]:
    """Public, enabled PPID documents, newest upload first."""
    docs = []
    for row in _rows(_load(content)):
        if not _enabled(row.get("enabled", 1)) or str(row.get("aksi", "0")) == "3":
            continue  # disabled, or reported as deleted by a tgl_dari query
        name = html_to_text(str(row.get("nama") or "")) or "(tanpa nama)"
        uploaded = parse_indonesian_date(str(row.get("tgl_upload") or ""))
        url = normalise_url(str(row.get("dokumen") or ""), base + "/") or None
        if url is None and str(row.get("id") or "").isdigit():
            # JSON:API rows carry the model's columns, not /ppid's ready-made download link.
            url = f"{base}/index.php/dokumen_web/unduh_berkas/{row['id']}"
        category = category_of(row.get("kategori", row.get("kategori_info_publik")))
        docs.append(PpidDocument(name, category, year_of(name, row.get("tahun")), uploaded, url))
    return _newest_first(docs)


def _newest_first(docs: list[PpidDocument]) -> tuple[PpidDocument, ...]:
    return tuple(sorted(docs, key=_upload_key, reverse=True))


def _upload_key(d: PpidDocument) -> tuple[bool, float]:
    return (d.uploaded_at is not None, d.uploaded_at.timestamp() if d.uploaded_at else 0.0)


def _text(node: LexborNode) -> str:
    return " ".join((node.text(separator=" ") or "").split())


def _row_document(row: LexborNode, base: str) -> PpidDocument | None:
    cells = row.css("td")
    if len(cells) < 2 or any(c.attributes.get("colspan") for c in cells):
        return None
    texts = [_text(c) for c in cells]
    category = next((c for t in texts if (c := category_of(t, ids=False))), None)
    uploaded = next((d for t in texts if (d := parse_indonesian_date(t))), None)
    # The name is the wordiest cell that is not a number, date or category.
    candidates = [
        t
        for t in texts
        if t
        and not t.isdigit()
        and category_of(t, ids=False) is None
        and parse_indonesian_date(t) is None
    ]
    name = max(candidates, key=lambda t: sum(ch.isalpha() for ch in t), default="")
    if sum(ch.isalpha() for ch in name) < 3:
        return None
    link = row.css_first("a[href]")  # the title or its "Unduh" button: the document
    url = normalise_url(link.attributes.get("href") or "", base + "/") if link else ""
    tahun = next((t for t in texts if t.isdigit() and len(t) == 4), None)
    return PpidDocument(name, category, year_of(name, tahun), uploaded, url or None)


def parse_document_page(content: bytes, base: str) -> DocumentPage:
    """Document rows of an informasi-publik or peraturan-desa page (any theme's table)."""
    tree = LexborHTMLParser(content.decode("utf-8", errors="replace"))
    docs: list[PpidDocument] = []
    empty_notice = False
    for row in tree.css("table tbody tr, table tr"):
        if row.css_first("th") is not None:
            continue  # header rows (some themes leave out thead)
        if (doc := _row_document(row, base)) is not None:
            docs.append(doc)
        elif _EMPTY_ROW.search(_text(row)):
            empty_notice = True
    unique = list({(d.name, d.url): d for d in docs}.values())
    return DocumentPage(bool(unique) or empty_notice, _newest_first(unique))


def parse_home_links(content: bytes, base: str) -> dict[str, str]:
    """Which KIP pages the home page links or shows, key → url (the home page for widgets)."""
    tree = LexborHTMLParser(content.decode("utf-8", errors="replace"))
    host = urlsplit(base).netloc
    found: dict[str, str] = {}
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if href.startswith(("#", "javascript:")):
            continue  # a dropdown toggle ("Profil Desa ▾") is a heading, not the page
        url = normalise_url(href, base + "/")
        if not url or urlsplit(url).netloc != host or _ARTICLE.search(url):
            continue  # another site's page or a news article says nothing about this site
        label = f"{_text(node)} {urlsplit(url).path}"
        for key, pattern in _LINKS.items():
            if key not in found and pattern.search(label):
                found[key] = url
    for node in tree.css("h1, h2, h3, h4, h5, .box-title, .widget-title"):
        title = _text(node)
        if node.css_first("a") is not None or len(title) > 40:
            continue  # a news headline ("Penerimaan Perangkat Desa ...") is not a widget
        for key, pattern in _WIDGET_TITLES.items():
            if key not in found and pattern.search(title):
                found[key] = base + "/"
    return found


def _cell_text(value: object) -> str:
    return html_to_text(str(value)) if value is not None else ""


def parse_datatables(content: bytes, base: str) -> DocumentPage:
    """Rows of a DataTables JSON answer (`/peraturan-desa/datatables`):
    `{draw, recordsTotal, data: [...]}` with rows as objects or as lists of cell HTML."""
    doc = _load(content)
    rows = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise ParseError("not a DataTables answer")
    docs = []
    for row in rows:
        if isinstance(row, dict):
            name = _cell_text(row.get("nama") or row.get("judul") or row.get("tentang"))
            when = _cell_text(row.get("tgl_ditetapkan") or row.get("tgl_upload"))
            link = str(row.get("dokumen") or row.get("url") or row.get("satuan") or "")
            tahun: object = row.get("tahun")
        elif isinstance(row, list):
            texts = [_cell_text(c) for c in row]
            name = max(texts, key=lambda t: sum(ch.isalpha() for ch in t), default="")
            when = next((t for t in texts if parse_indonesian_date(t)), "")
            link, tahun = "", next((t for t in texts if t.isdigit() and len(t) == 4), None)
        else:
            continue
        if sum(ch.isalpha() for ch in name) < 3:
            continue
        url = normalise_url(link, base + "/") if link.startswith(("http", "/")) else ""
        docs.append(
            PpidDocument(name, None, year_of(name, tahun), parse_indonesian_date(when), url or None)
        )
    return DocumentPage(True, _newest_first(docs))
