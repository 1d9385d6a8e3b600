"""Exports of the lists on the pages: CSV (UTF-8, formula-safe) and Excel .xlsx (openpyxl).

A page and its export are built from the same rows and `Column` list, so a file holds
exactly what the screen shows (without paging).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from starlette.responses import Response

from aggregator.clock import WIB

Cell = str | int | float | bool | datetime | date | None
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheets run a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDS = re.compile(r"[\\/?*\[\]:]")  # characters Excel refuses in a sheet name


@dataclass(frozen=True)
class Column:
    """One exported column: its header and how to read the cell from a row dict."""

    label: str
    get: Callable[[dict[str, Any]], Cell]
    width: int = 16


@dataclass(frozen=True)
class Table:
    title: str  # also the sheet name (cut to Excel's 31 characters)
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    notes: Sequence[tuple[str, str]] = ()  # (label, value) put on an "Info" sheet


def field(key: str, label: str, width: int = 16) -> Column:
    return Column(label, lambda row: row.get(key), width)


def defuse(text: str) -> str:
    """Text a spreadsheet will not run: a leading apostrophe before a formula trigger."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _local(value: datetime) -> datetime:
    return value.astimezone(WIB) if value.tzinfo else value


def csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return defuse(value)


def to_csv(table: Table) -> bytes:
    """RFC 4180 CSV with a UTF-8 byte-order mark, which Excel needs to read non-ASCII names."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_value(c.get(row)) for c in table.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx_cell(ws: WriteOnlyWorksheet, value: Cell, bold: bool = False) -> XlCell:
    day_only = isinstance(value, date) and not isinstance(value, datetime)
    if isinstance(value, bool):
        value = "ya" if value else "tidak"
    elif isinstance(value, datetime):
        value = _local(value).replace(tzinfo=None)  # Excel has no time zones: WIB wall time
    elif isinstance(value, date):
        value = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula; this keeps it text
    elif isinstance(value, datetime):
        cell.number_format = "dd/mm/yyyy" if day_only else "dd/mm/yyyy hh:mm"
    if bold:
        cell.font = Font(bold=True)
    return cell


def to_xlsx(table: Table) -> bytes:
    wb = Workbook(write_only=True)
    title = _SHEET_FORBIDS.sub("-", ILLEGAL_CHARACTERS_RE.sub("", table.title))[:31]
    ws = wb.create_sheet(title or "Data")
    ws.freeze_panes = "A2"
    for i, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.append([_xlsx_cell(ws, c.label, bold=True) for c in table.columns])
    for row in table.rows:
        ws.append([_xlsx_cell(ws, c.get(row)) for c in table.columns])
    if table.notes:
        info = wb.create_sheet("Info")
        info.column_dimensions["A"].width = 24
        info.column_dimensions["B"].width = 60
        for label, value in table.notes:
            info.append([_xlsx_cell(info, label, bold=True), _xlsx_cell(info, value)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_response(table: Table, fmt: str, filename: str) -> Response:
    """The table as a download; `filename` is ASCII without extension."""
    if fmt == "xlsx":
        body, media = to_xlsx(table), XLSX_TYPE
    else:
        body, media = to_csv(table), "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
