"""Read a filled HTML form back into answers shaped like the API's JSON.

Inputs are named after the fields; a repeat group's inputs are named
"group.<row>.child". Empty inputs are left out (they answer nothing), and so
are repeat rows left entirely empty. The answers then go through the same
schema as any other submission.
"""

from __future__ import annotations

import re
from typing import Protocol


class FormData(Protocol):
    def get(self, key: str, default=None): ...

    def getlist(self, key: str) -> list: ...

    def keys(self): ...


def answers_from_form(definition: dict, form: FormData) -> dict:
    return _read(definition["fields"], form, "")


def _read(specs: list[dict], form: FormData, prefix: str) -> dict:
    answers = {}
    for spec in specs:
        key = prefix + spec["name"]
        if spec["type"] == "repeat":
            value = [item for item in (_read(spec["fields"], form, f"{key}.{row}.")
                                       for row in _rows(form, key)) if item]
        elif spec["type"] == "multi_choice":
            value = [v for v in form.getlist(key) if v]
        else:
            value = (form.get(key) or "").strip()
        if value:
            answers[spec["name"]] = value
    return answers


def _rows(form: FormData, group: str) -> list[int]:
    pattern = re.compile(re.escape(group) + r"\.([0-9]{1,3})\.")
    return sorted({int(m.group(1)) for m in map(pattern.match, form.keys()) if m})


def row_count(spec: dict, values: dict) -> int:
    """How many rows of a repeat group to show: what was typed, at least min_items (and 1)."""
    typed = len(values.get(spec["name"]) or [])
    return min(spec["max_items"], max(typed, spec["min_items"], 1))
