"""Write a Table as CSV, streamed a batch of rows at a time.

UTF-8 with a byte-order mark so Excel opens the Chinese text; the header row first, no title rows
(a CSV is for machines and for Excel's own parsing); dates as ISO (2024-05-28); text that would
start a formula gets a leading apostrophe (shared/CONVENTIONS.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from fieldsync.sheets.table import Table, safe_cell

BATCH_ROWS = 2000


def chunks(table: Table) -> Iterator[bytes]:
    """The table as CSV bytes, a batch of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(table.headers)
    for count, row in enumerate(table.rows, start=1):
        writer.writerow([_cell(value) for value in row])
        if count % BATCH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(value)
