"""Excel workbooks (.xlsx), the one module that imports openpyxl: the residents' form (what its
columns mean is `registry/resident_sheet.py`'s) and the reports' downloads. Cells are only read
and written here."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException

from registry.fields import RegistryError
from registry.resident_sheet import SHEET_TITLE

WIDTHS = {
    "编号": 12,
    "姓名": 10,
    "地址": 28,
    "健康情况": 28,
    "本人电话": 16,
    "慢性病": 20,
    "用药": 24,
    "常去医院": 18,
    "服务需求": 18,
}


def write_workbook(rows: Sequence[Sequence[Any]], title: str = SHEET_TITLE) -> bytes:
    """A workbook of one sheet: the header row bold and frozen, every cell text (a phone number
    stays +8613800000001, never 8.6138E+12)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = title
    for row in rows:  # numbers stay numbers (a report's counts); everything else is text
        sheet.append([v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v or "") for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[cell.column_letter].width = WIDTHS.get(str(cell.value), 14)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_workbook(data: bytes) -> list[list[Any]]:
    """The rows of the residents' sheet (or of the first sheet, when none is named so)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as e:
        raise RegistryError(
            [f"not an Excel .xlsx workbook ({e.__class__.__name__}); an old .xls must be saved as .xlsx first"]
        ) from None
    try:
        sheet = book[SHEET_TITLE] if SHEET_TITLE in book.sheetnames else book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
