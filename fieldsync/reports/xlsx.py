"""Write a Table as the XLSX offices file (shared/CONVENTIONS.md, "XLSX reports").

Row 1: the title, merged across the table, 宋体 bold and larger. Row 2: the
单位名称（盖章） line and, on the right, the 填报日期. Row 3: the headers.
Then the data in 宋体, with dates as 2024年5月28日, phones and codes as text,
and any text that would start a formula written as plain text.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from typing import Iterator

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from fieldsync.reports.table import Table, chinese_date

FONT_NAME = "宋体"
TITLE_FONT = Font(name=FONT_NAME, size=16, bold=True)
LINE_FONT = Font(name=FONT_NAME, size=11)
HEADER_FONT = Font(name=FONT_NAME, size=11, bold=True)
BODY_FONT = Font(name=FONT_NAME, size=11)
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FORMULA_STARTS = ("=", "+", "-", "@")
HEADER_ROW = 3
MAX_WIDTH, WRAP_WIDTH = 60, 40


def chunks(table: Table) -> Iterator[bytes]:
    """The workbook as bytes (one chunk: openpyxl builds the file in memory)."""
    out = io.BytesIO()
    workbook(table).save(out)
    yield out.getvalue()


def workbook(table: Table) -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = table.sheet_name
    rows = [list(row) for row in table.rows]
    width = len(table.headers)
    _title_and_unit(sheet, table, width)
    for col, header in enumerate(table.headers, start=1):
        _put(sheet.cell(HEADER_ROW, col), header, HEADER_FONT, Alignment(horizontal="center",
                                                                          vertical="center", wrap_text=True))
    for offset, row in enumerate(rows, start=1):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(HEADER_ROW + offset, col)
            wrap = (col - 1) in table.wrap_columns
            _put(cell, value, BODY_FONT, Alignment(vertical="center", wrap_text=wrap),
                 as_text=(col - 1) in table.text_columns)
    _widths(sheet, table, rows)
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return book


def _title_and_unit(sheet, table: Table, width: int) -> None:
    last = get_column_letter(width)
    sheet.merge_cells(f"A1:{last}1")
    _put(sheet["A1"], table.title, TITLE_FONT, Alignment(horizontal="center", vertical="center"), box=False)
    sheet.row_dimensions[1].height = 32
    # The unit on the left, the filing date on the right third of the row.
    split = max(1, width - 3) if table.date_line and width > 1 else width
    sheet.merge_cells(f"A2:{get_column_letter(split)}2")
    _put(sheet["A2"], table.unit_line, LINE_FONT, Alignment(vertical="center"), box=False)
    if split < width:
        sheet.merge_cells(f"{get_column_letter(split + 1)}2:{last}2")
        _put(sheet.cell(2, split + 1), table.date_line, LINE_FONT,
             Alignment(horizontal="right", vertical="center"), box=False)
    sheet.row_dimensions[2].height = 22


def _put(cell, value, font: Font, alignment: Alignment, *, as_text: bool = False, box: bool = True) -> None:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    elif as_text and value is not None:
        value = str(value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # a string, never a formula: no injection through a name or a summary
    if as_text:
        cell.number_format = "@"
    elif isinstance(value, (date, datetime)):
        cell.number_format = DATE_FORMAT
    cell.font, cell.alignment = font, alignment
    if box:
        cell.border = BOX


def display_width(value) -> int:
    """Columns a value needs: 2 per wide (CJK) character, 1 otherwise."""
    if isinstance(value, (date, datetime)):
        text = chinese_date(value)
    else:
        text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _widths(sheet, table: Table, rows: list[list]) -> None:
    for index, header in enumerate(table.headers):
        widest = max([display_width(header)] + [display_width(row[index]) for row in rows])
        cap = WRAP_WIDTH if index in table.wrap_columns else MAX_WIDTH
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(widest, cap) + 2
