"""Write a Table as the XLSX offices file (shared/CONVENTIONS.md, "XLSX reports").

Row 1: the title, merged across the table, 宋体 bold and larger. Row 2: the
单位名称（盖章） line and, on the right, the 填报日期. Row 3: the headers.
Then the data in 宋体 with borders (subtotal rows bold), dates as 2024年5月28日, phones and codes as
text, widths from the widest text. Every text cell is an inline string, so no
text ever becomes a formula.

The SpreadsheetML is written here rather than through openpyxl: a city's
统计表 has tens of thousands of rows, and openpyxl spends ~50 µs a styled cell
(20 s for 46,000 rows) where this spends ~2 µs (docs/decisions/0034-xlsx-writer.md).
The tests read every file back with openpyxl.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

from fieldsync.sheets.table import Table, chinese_date

FONT = "宋体"
HEADER_ROW = 3
MAX_WIDTH, WRAP_WIDTH = 60, 40
EPOCH = date(1899, 12, 30)
# Characters XML 1.0 cannot carry (openpyxl refuses them too).
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Cell styles, by their index in styles.xml cellXfs.
TITLE, UNIT, DATE_LINE, HEADER, BODY, WRAP, DATE, TEXT, BOLD = range(1, 10)

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>
<fonts count="3"><font><sz val="11"/><name val="{FONT}"/><charset val="134"/></font>
<font><b/><sz val="11"/><name val="{FONT}"/><charset val="134"/></font>
<font><b/><sz val="16"/><name val="{FONT}"/><charset val="134"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>
<border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="10"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center" vertical="center"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="center"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment horizontal="right" vertical="center"/></xf>
<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>
<xf numFmtId="49" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>
<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""

ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""

WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""


def chunks(table: Table) -> Iterator[bytes]:
    """The workbook as bytes (one chunk: a zip file is written whole)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", _workbook(table.sheet_name))
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/styles.xml", STYLES)
        book.writestr("xl/worksheets/sheet1.xml", _sheet(table))
    yield out.getvalue()


def _workbook(sheet_name: str) -> str:
    name = _escape(sheet_name[:31])
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
            '<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'
            f"'{name}'!${HEADER_ROW}:${HEADER_ROW}</definedName></definedNames></workbook>")


def _sheet(table: Table) -> str:
    rows = [list(row) for row in table.rows]
    width = len(table.headers)
    letters = [_column(index) for index in range(width)]
    styles = [TEXT if i in table.text_columns else WRAP if i in table.wrap_columns else BODY for i in range(width)]
    split = max(1, width - 3) if table.date_line and width > 1 else width
    parts = [('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
              f'<dimension ref="A1:{letters[-1]}{HEADER_ROW + len(rows)}"/>'
              '<sheetViews><sheetView workbookViewId="0"><pane ySplit="3" topLeftCell="A4" activePane="bottomLeft"'
              ' state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>')]
    parts += [f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
              for i, w in enumerate(_widths(table, rows))]
    parts.append('</cols><sheetData>')
    parts.append(f'<row r="1" ht="32" customHeight="1">{_cell("A1", table.title, TITLE)}</row>')
    line = _cell("A2", table.unit_line, UNIT)
    if split < width:
        line += _cell(f"{letters[split]}2", table.date_line, DATE_LINE)
    parts.append(f'<row r="2" ht="22" customHeight="1">{line}</row>')
    parts.append(_row(HEADER_ROW, letters, table.headers, [HEADER] * width))
    bold = [BOLD] * width
    parts += [_row(number, letters, row, bold if index in table.bold_rows else styles)
              for index, (number, row) in enumerate(enumerate(rows, start=HEADER_ROW + 1))]
    merged = [f"A1:{letters[-1]}1", f"A2:{letters[split - 1]}2"]
    if split < width:
        merged.append(f"{letters[split]}2:{letters[-1]}2")
    parts.append(f'</sheetData><mergeCells count="{len(merged)}">')
    parts += [f'<mergeCell ref="{ref}"/>' for ref in merged]
    parts.append('</mergeCells><pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3"'
                 ' footer="0.3"/><pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')
    return "".join(parts)


def _row(number: int, letters: list[str], values, styles: list[int]) -> str:
    cells = "".join(_cell(f"{letter}{number}", value, style)
                    for letter, value, style in zip(letters, values, styles))
    return f'<row r="{number}">{cells}</row>'


def _cell(ref: str, value, style: int) -> str:
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, bool) or not isinstance(value, (int, float, date)) or style == TEXT:
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{_escape(str(value))}</t></is></c>'
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        return f'<c r="{ref}" s="{DATE}"><v>{(day - EPOCH).days}</v></c>'
    return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'


def _escape(text: str) -> str:
    text = ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def display_width(value) -> int:
    """Columns a value needs: 2 per wide (CJK, full-width) character, 1 otherwise."""
    text = chinese_date(value) if isinstance(value, date) else "" if value is None else str(value)
    return 2 * len(text) - len(text.translate(_narrow_only()))


@functools.cache
def _narrow_only() -> list:
    """A str.translate table that deletes unicodedata's Wide and Fullwidth characters, so
    measuring many cells stays in C. Nothing above plane 3 is wide (IndexError keeps it)."""
    return [None if unicodedata.east_asian_width(chr(code)) in "WF" else code for code in range(0x40000)]


def _widths(table: Table, rows: list[list]) -> list[int]:
    widths = []
    for index, header in enumerate(table.headers):
        cap = WRAP_WIDTH if index in table.wrap_columns else MAX_WIDTH
        widest = display_width(header)
        for row in rows:
            value = row[index]
            # Only a value that could be wider than the widest so far is worth measuring.
            if widest < cap and value is not None and 2 * len(str(value)) > widest:
                widest = max(widest, display_width(value))
        widths.append(min(widest, cap) + 2)
    return widths
