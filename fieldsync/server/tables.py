"""Tables that become cards on a phone: each body cell carries its column's heading.

Below tablet width fieldsync.css lays out every table of a page's <main> as one card per row and
writes each cell's `data-label` before its value. The labels come from the table's own heading
row, so a template writes an ordinary table with a <thead> and nothing more: base.html passes the
page's <main> through `card_labels` once. Our templates never nest tables, which this relies on.
"""

from __future__ import annotations

import html
import re

from flask import Flask
from markupsafe import Markup, escape

TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL)
HEAD = re.compile(r"<thead\b.*?<tr\b[^>]*>(.*?)</tr>.*?</thead>", re.DOTALL)
HEADING = re.compile(r"<th\b([^>]*)>(.*?)</th>", re.DOTALL)
CELL = re.compile(r"<(td|th)\b([^>]*)>(.*?)</\1>", re.DOTALL)
ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL)
COLSPAN = re.compile(r"""\bcolspan=["']?(\d+)""")
TAG = re.compile(r"<[^>]*>")


def card_labels(page: str) -> Markup:
    """The page with the cells of every table that has a heading row labelled."""
    return Markup(TABLE.sub(_labelled, str(page)))


def _labelled(table: re.Match) -> str:
    head = HEAD.search(table.group(0))
    if head is None:
        return table.group(0)
    labels = []
    for attributes, text in HEADING.findall(head.group(1)):
        labels += [" ".join(html.unescape(TAG.sub(" ", text)).split())] * _span(attributes)
    before, body = table.group(0)[:head.end()], table.group(0)[head.end():]
    body = ROW.sub(lambda row: _row(row, labels), body)
    return before + body


def _row(row: re.Match, labels: list[str]) -> str:
    column = 0

    def label(cell: re.Match) -> str:
        nonlocal column
        tag, attributes, content = cell.groups()
        span, text = _span(attributes), labels[column] if column < len(labels) else ""
        column += span
        if not content.strip():  # nothing to show: the card leaves the cell out
            return f"<{tag}{attributes}></{tag}>"
        if span > 1 or not text or "data-label=" in attributes:  # a message across the row, the actions
            return cell.group(0)
        return f'<{tag}{attributes} data-label="{escape(text)}">{content}</{tag}>'

    return CELL.sub(label, row.group(0))


def _span(attributes: str) -> int:
    found = COLSPAN.search(attributes)
    return int(found.group(1)) if found else 1


def init_app(app: Flask) -> None:
    app.jinja_env.filters["card_labels"] = card_labels
