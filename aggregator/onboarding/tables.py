"""Read a site list an officer prepared (CSV or Excel) into rows of code/name/kecamatan/url.

Column names are matched loosely (`kode_desa`, `Nama Desa`, `Website`...) because every
office exports its own spreadsheet; a title row above the header is skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aggregator.errors import AggregatorError
from aggregator.onboarding.names import ascii_lower

# Header aliases, compared after lowercasing and dropping spaces, dots, dashes, underscores.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "kode", "kodedesa", "kodewilayah", "kodekemendagri", "villagecode", "desaid"),
    "name": ("name", "nama", "namadesa", "desa", "desakelurahan", "kelurahan", "village"),
    "kecamatan": ("kecamatan", "namakecamatan", "kec", "kodekecamatan", "district"),
    # "candidate": the review file `discover` writes can be imported once checked.
    "url": (
        "url",
        "website",
        "situs",
        "web",
        "alamatsitus",
        "alamatwebsite",
        "domain",
        "site",
        "candidate",
    ),
}
HEADER_SEARCH_ROWS = 10


class TableError(AggregatorError):
    """The file cannot be read as a site list (format, encoding, missing columns)."""


@dataclass(frozen=True)
class SiteRow:
    """One row of a site list; `where` names it in the report ("row 7", "item 3")."""

    where: str
    code: str = ""
    name: str = ""
    kecamatan: str = ""
    url: str = ""


def _key(header: object) -> str:
    text = ascii_lower(str(header or ""))
    return "".join(c for c in text if c.isalnum())


def _find_header(rows: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]]:
    """Index of the header row and column positions; needs url and one of code or name."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_key(cell) for cell in row]
        found: dict[str, int] = {}
        for field, aliases in COLUMNS.items():
            for pos, key in enumerate(keys):
                if key in aliases and field not in found:
                    found[field] = pos
        if "url" in found and ("code" in found or "name" in found):
            return i, found
    wanted = "a url column (url/website/situs) and a code (kode) or name (nama) column"
    raise TableError(f"no header row found in the first {HEADER_SEARCH_ROWS} rows: need {wanted}")


def _cell(row: Sequence[object], pos: int | None) -> object:
    if pos is None or pos >= len(row):
        return None
    return row[pos]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 3303012001 as 3303012001.0
    return str(value).strip()


def rows_from_table(rows: Sequence[Sequence[object]]) -> list[SiteRow]:
    """SiteRows from raw rows (the header somewhere in the first rows); empty rows skipped."""
    start, cols = _find_header(rows)
    out: list[SiteRow] = []
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        values = {field: _text(_cell(row, cols.get(field))) for field in COLUMNS}
        if not any(values.values()):
            continue
        out.append(SiteRow(where=f"row {number}", **values))
    return out


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the ANSI code page unless told otherwise.
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes) -> list[SiteRow]:
    text = _decode(data)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to sniff: plain commas
    return rows_from_table(list(csv.reader(io.StringIO(text, newline=""), dialect)))


def read_xlsx(path: Path) -> list[SiteRow]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as e:
        raise TableError(f"{path}: not a readable .xlsx workbook: {e}") from e
    try:
        sheet = book.active
        if sheet is None:
            raise TableError(f"{path}: the workbook has no sheet")
        rows: Iterable[Sequence[object]] = sheet.iter_rows(values_only=True)
        return rows_from_table([list(r) for r in rows])
    finally:
        book.close()


def read_site_list(path: str | Path) -> list[SiteRow]:
    """Rows of a .csv or .xlsx file; TableError says what is wrong with it."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return read_xlsx(p)
        if suffix in (".csv", ".txt", ".tsv"):
            return read_csv(p.read_bytes())
    except OSError as e:
        raise TableError(f"{p}: cannot read: {e.strerror or e}") from e
    except TableError as e:
        message = str(e)
        raise TableError(message if message.startswith(str(p)) else f"{p}: {message}") from e
    raise TableError(f"{p}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")
