"""The site-address template an officer fills in (every village's code, name, kecamatan and
any url already known), and a bounded reader for the filled file uploaded from the browser.

The reader trusts nothing in the file: its size, its unpacked size and its rows are capped
before and while openpyxl reads it (read-only, cached values only: no formula is evaluated),
every cell becomes plain text, and anything openpyxl cannot read is reported, not raised.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from aggregator.onboarding.tables import SiteRow, TableError, rows_from_table
from aggregator.settings import DistrictConfig

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a filled kabupaten template is ~20 kB
MAX_UNPACKED_BYTES = 40 * 1024 * 1024  # a zip bomb stops here, before openpyxl unpacks it
MAX_MEMBERS = 100
MAX_ROWS = 20_000
MAX_COLUMNS = 26
MAX_CELL_CHARS = 1000
HEADERS = ("Kode wilayah", "Desa/Kelurahan", "Kecamatan", "Alamat situs")
WIDTHS = (18, 26, 20, 48)
GUIDE = (
    "Isi kolom 'Alamat situs' dengan alamat situs resmi tiap desa, misalnya "
    "https://namadesa.desa.id. Biarkan kosong bila belum tahu.",
    "Jangan ubah kolom Kode wilayah: desa dikenali dari kodenya.",
    "Simpan sebagai Excel (.xlsx), lalu unggah di Sipande: Kelola › Mulai. Sipande "
    "menampilkan laporan uji dulu; konfigurasi baru diubah setelah Anda menerapkannya.",
)


def _text_cell(ws: Any, value: str, bold: bool = False) -> Any:
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # text, even if it starts with "=": never a formula
    if bold:
        cell.font = Font(bold=True)
    return cell


def template_xlsx(config: DistrictConfig) -> bytes:
    """The template: one row per configured village, the url column to fill."""
    kec_names = {k.code: k.name for k in config.kecamatan}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Situs desa")
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCD", WIDTHS, strict=True):
        ws.column_dimensions[letter].width = width
    ws.append([_text_cell(ws, h, bold=True) for h in HEADERS])
    for v in config.villages:
        values = (v.code, v.name, kec_names.get(v.kecamatan_code, v.kecamatan_code), v.url)
        ws.append([_text_cell(ws, x) for x in values])
    guide = wb.create_sheet("Petunjuk")
    guide.column_dimensions["A"].width = 100
    guide.append([_text_cell(guide, "Petunjuk pengisian", bold=True)])
    for line in GUIDE:
        guide.append([_text_cell(guide, line)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _plain(value: object) -> object:
    """A cell as the importer may see it: text (cut to MAX_CELL_CHARS), a number or None."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS] + " [dipotong]"
    return text


def _check_zip(data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TableError("bukan berkas Excel .xlsx (isinya bukan arsip Office Open XML)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, ValueError) as e:
        raise TableError(f"arsip .xlsx rusak: {e}") from e
    if len(members) > MAX_MEMBERS:
        raise TableError(f"arsip .xlsx berisi {len(members)} berkas (paling banyak {MAX_MEMBERS})")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        limit = MAX_UNPACKED_BYTES // (1024 * 1024)
        raise TableError(f"isi .xlsx terlalu besar setelah dibuka (lebih dari {limit} MB)")


def read_upload(data: bytes, filename: str) -> list[SiteRow]:
    """Rows of an uploaded .xlsx site list; TableError (in Bahasa Indonesia) when it cannot
    be read as one."""
    if not filename.lower().endswith(".xlsx"):
        raise TableError("hanya berkas Excel .xlsx yang diterima (simpan templat sebagai .xlsx)")
    if len(data) > MAX_UPLOAD_BYTES:
        raise TableError(f"berkas terlalu besar (paling besar {MAX_UPLOAD_BYTES // 1024} kB)")
    _check_zip(data)
    rows: list[list[object]] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as e:  # untrusted bytes: any failure of the parser is the file's fault
        raise TableError(f"berkas tidak bisa dibaca sebagai .xlsx ({type(e).__name__})") from e
    try:
        if not book.worksheets:
            raise TableError("buku kerja tidak punya lembar")
        for row in book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True):
            if len(rows) >= MAX_ROWS:
                raise TableError(f"lebih dari {MAX_ROWS} baris: unggah satu kabupaten saja")
            rows.append([_plain(cell) for cell in row])
    except TableError:
        raise
    except Exception as e:  # a malformed sheet inside a valid zip
        raise TableError(f"lembar pertama tidak bisa dibaca ({type(e).__name__})") from e
    finally:
        book.close()
    try:
        return rows_from_table(rows)
    except TableError as e:
        raise TableError(
            "baris judul tidak ditemukan: perlu kolom 'Alamat situs' (atau url/website) dan "
            f"kolom 'Kode wilayah' atau nama desa ({e})"
        ) from e
