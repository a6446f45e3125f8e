"""Tables out: the one Table shape every export builds (reports, the roster, a form's submissions)
and the one writer per format that turns it into a file (xlsx.py, csvfile.py)."""

from __future__ import annotations

from collections.abc import Iterator

from fieldsync.sheets import csvfile, xlsx
from fieldsync.sheets.table import Table

CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}
WRITERS = {"xlsx": xlsx.chunks, "csv": csvfile.chunks}


def write(table: Table, fmt: str) -> Iterator[bytes]:
    """The table as a file of format `fmt` (a key of WRITERS), in chunks."""
    return WRITERS[fmt](table)
