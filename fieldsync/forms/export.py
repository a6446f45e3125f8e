"""A form's submissions as a spreadsheet: one row per submission, one column per answer.

Columns come from every published version, newest labels first, so answers
to an older version keep their place. A repeat group becomes numbered column
blocks (握力测试1·手, 握力测试1·kg, 握力测试2·...) as wide as the longest
answer. Choices show their Chinese labels, phone numbers are masked, and
text is never a formula (CSV cells get a leading ', XLSX cells are typed as text): the one writer
of each format (fieldsync/sheets/) writes the Table built here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fieldsync.forms import catalogue
from fieldsync.records.validators import mask_phone
from fieldsync.sheets.table import Table
from fieldsync.store import Store

FIXED = (("提交编号", "id"), ("提交时间", "submitted_at"), ("表单版本", "form_version"),
         ("活动", "session_title"), ("姓名", "person_name"), ("人员编号", "person_id"), ("节点", "node"))


@dataclass
class Column:
    header: str
    value: Callable[[dict], Any]  # submission row (data parsed) -> cell value


def merged_fields(forms: list[dict]) -> list[dict]:
    """Every field any version had, in the newest version's order; older-only fields after."""
    merged: dict[str, dict] = {}
    for form in forms:  # newest first
        for spec in form["definition"]["fields"]:
            known = merged.setdefault(spec["name"], {**spec})
            if spec.get("options"):
                values = {o["value"] for o in known.get("options", [])}
                known["options"] = known.get("options", []) + [o for o in spec["options"]
                                                               if o["value"] not in values]
            if spec["type"] == "repeat" and known["type"] == "repeat":
                known["fields"] = merged_fields([{"definition": known}, {"definition": spec}])
    return list(merged.values())


def display(spec: dict, value, place_names: dict) -> Any:
    """An answer as a person reads it in a cell."""
    if value is None:
        return ""
    labels = {o["value"]: o["label"]["zh"] for o in spec.get("options", [])}
    shown = {
        "single_choice": lambda: labels.get(value, value),
        "multi_choice": lambda: "、".join(labels.get(v, v) for v in value),
        "yes_no": lambda: "是" if value else "否",
        "number": lambda: int(value) if float(value).is_integer() else value,
        "phone": lambda: mask_phone(value),
        "place": lambda: place_names.get(value, value),
    }.get(spec["type"], lambda: value)()
    return shown


def _heading(spec: dict) -> str:
    unit = spec.get("unit")
    return spec["label"]["zh"] + (f"({unit})" if unit else "")


def columns(store: Store, form_id: str) -> list[Column]:
    forms = [catalogue.get(store, form_id, v["version"]) for v in catalogue.versions(store, form_id)
             if v["published_at"]]
    specs = merged_fields(forms)
    place_names = _place_names(store) if _has_place(specs) else {}
    out = [Column(header, lambda row, key=key: "" if row.get(key) is None else row[key])
           for header, key in FIXED]
    for spec in specs:
        if spec["type"] != "repeat":
            out.append(Column(_heading(spec), lambda row, s=spec: display(
                s, row["data"].get(s["name"]), place_names)))
            continue
        for index in range(_widest(store, form_id, spec["name"])):
            for child in spec["fields"]:
                out.append(Column(f"{spec['label']['zh']}{index + 1}·{_heading(child)}",
                                  lambda row, s=spec, c=child, i=index: display(
                                      c, _item(row["data"], s["name"], i).get(c["name"]), place_names)))
    return out


def _item(data: dict, group: str, index: int) -> dict:
    items = data.get(group) or []
    return items[index] if index < len(items) else {}


def _widest(store: Store, form_id: str, group: str) -> int:
    found = store.db.execute("SELECT MAX(json_array_length(data, ?)) FROM submissions WHERE form_id = ?",
                             [f"$.{group}", form_id]).fetchone()[0]
    return found or 0


def _has_place(specs: list[dict]) -> bool:
    return any(s["type"] == "place" or _has_place(s.get("fields", [])) for s in specs)


def _place_names(store: Store) -> dict:
    return {row["code"]: row["name"] for row in store.query("SELECT code, name FROM places")}


def rows(store: Store, form_id: str, *, newest_first: bool = False, limit: int | None = None) -> Iterator[dict]:
    """The form's submissions, oldest first unless asked, read as a stream (all of them unless limited)."""
    order = "DESC" if newest_first else "ASC"
    sql = ("SELECT s.id, s.submitted_at, s.form_version, s.person_id, s.node, s.data,"
           " p.name AS person_name, e.title AS session_title FROM submissions s"
           " LEFT JOIN people p ON p.id = s.person_id LEFT JOIN sessions e ON e.id = s.session_id"
           f" WHERE s.form_id = ? ORDER BY s.submitted_at {order}, s.id {order}")
    params: list = [form_id]
    if limit is not None:   # no LIMIT clause at all: PostgreSQL refuses SQLite's LIMIT -1
        sql += " LIMIT ?"
        params.append(limit)
    cursor = store.db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    for found in cursor:
        row = dict(zip(names, found))
        row["data"] = json.loads(row["data"])
        yield row


def table(store: Store, form_id: str, **which) -> tuple[list[str], Iterator[list]]:
    """Headers, then one list of cell values per submission (`which` as for rows)."""
    cols = columns(store, form_id)
    return [c.header for c in cols], ([c.value(row) for c in cols] for row in rows(store, form_id, **which))


def sheet(store: Store, form_id: str) -> Table:
    """Every submission of the form as a Table (sheets.write makes the CSV or XLSX of it)."""
    header, body = table(store, form_id)
    title = catalogue.get(store, form_id)["definition"].get("title", {})
    return Table(title=f"{title.get('zh') or form_id} 提交记录", headers=header, rows=body, sheet_name=form_id)
