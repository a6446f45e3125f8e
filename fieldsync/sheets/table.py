"""The one shape every export produces: a titled table that renders as XLSX or CSV."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass
class Table:
    title: str                                  # the merged title row
    headers: Sequence[str]
    rows: Iterable[Sequence]                    # may be a generator: CSV streams it
    unit_line: str = ""                         # "单位名称（盖章）：…"
    date_line: str = ""                         # right of the unit line: "填报日期：…"
    text_columns: frozenset[int] = field(default_factory=frozenset)   # phones, codes: kept as text
    wrap_columns: frozenset[int] = field(default_factory=frozenset)   # long text: wrapped, width capped
    bold_rows: frozenset[int] = field(default_factory=frozenset)      # subtotals (indexes into rows)
    sheet_name: str = "Sheet1"


def chinese_date(day: date) -> str:
    """2024年5月28日: full year, no leading zeros (GB/T 9704)."""
    return f"{day.year}年{day.month}月{day.day}日"


def unit_line(unit_name: str) -> str:
    return f"单位名称（盖章）：{unit_name}"


def filed_line(day: date) -> str:
    return f"填报日期：{chinese_date(day)}"


def safe_cell(text):
    """Neutralise spreadsheet formula injection in exported text (CSV; XLSX writes text as text)."""
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
