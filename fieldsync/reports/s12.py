"""The instructor register for the provincial system (S12): every instructor of a unit, or only
what changed since the unit's last changes-only export, as 注册/修改/注销 rows.

The layout is fixed (docs/exports.md): the columns below in this order, the
title row and the 单位名称 line of every report (sheets/xlsx.py). ID numbers
and phones are masked unless the caller may and asks to see them whole; full ID
numbers exist only where they were typed, so a town laptop opens its own sealed
numbers and a hub takes them from S12 files its laptops exported, each number
checked against the hub's keyed hash of that person
(docs/decisions/0145-s12-export-and-full-id-numbers.md).

The high-water mark of a unit is the register as its last changes-only export
left it (table export_state, one digest per person), not a time: a laptop
offline for a week brings edits older than the last export, and they still show.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from fieldsync.errors import ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import roster_io
from fieldsync.records.pii import Sealer
from fieldsync.records.schemas import GENDERS, LEVELS
from fieldsync.records.validators import id_number, mask_phone
from fieldsync.reports.units import Unit
from fieldsync.sheets.table import Table, filed_line, unit_line
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now

KIND = "s12"
COLUMNS = ("姓名", "性别", "出生日期", "身份证号", "等级", "证书编号", "发证日期", "发证单位", "区县", "乡镇",
           "村/社区", "联系电话", "指导项目", "状态")
OPERATION = "操作"
REGISTER, MODIFY, CANCEL = "注册", "修改", "注销"
ORDER = {REGISTER: 0, MODIFY: 1, CANCEL: 2}
ID_COLUMN, PHONE_COLUMN, CERTIFICATE_COLUMN = 3, 11, 5


@dataclass
class Export:
    table: Table
    rows: int
    full_numbers: int       # rows whose ID number is written whole
    unmatched: int = 0      # numbers in the given laptop files that fit no one of the unit


def export(store: Store, unit: Unit, *, changes: bool = False, full: bool = False, issuer: str = "",
           id_files: Iterable[tuple[str, bytes]] = (), actor: str | None = None) -> Export:
    """The unit's S12 sheet. `full`: whole ID numbers and phones (the caller checked the role);
    `id_files`: (name, content) of S12 files exported by laptops, a hub's only source of whole
    numbers. `changes`: only what differs from the unit's last changes-only export, which this
    export then becomes. Every export is logged in `exports`."""
    numbers, unmatched = numbers_from_files(store, id_files) if full else ({}, 0)
    sealer = Sealer(store.path.parent) if full else None

    def work(db: Database) -> Export:
        current, names = _instructors(db, unit), _places(db)
        picked = _changes(db, unit.code, current) if changes else [(None, person) for person in current.values()]
        rows, whole = [], 0
        for operation, person in picked:
            row, is_whole = _row(person, names, sealer, numbers, issuer, full)
            rows.append(([operation] if changes else []) + row)
            whole += is_whole
        export_id = db["exports"].insert({"kind": KIND, "unit": unit.code, "at": utc_now(), "actor": actor,
                                          "changes_only": int(changes), "rows": len(rows),
                                          "full_numbers": whole}).last_pk
        if changes:
            _remember(db, unit.code, current, export_id)
        return Export(_table(unit, rows, changes), len(rows), whole, unmatched)

    return store.write(work)


def last_export(db: Database, unit_code: str) -> dict | None:
    """The unit's last changes-only export (when, by whom, how many rows), or None."""
    return next(db.query("SELECT at, actor, rows FROM exports WHERE kind = ? AND unit = ? AND changes_only = 1"
                         " ORDER BY id DESC LIMIT 1", [KIND, unit_code]), None)


def _table(unit: Unit, rows: list[list], changes: bool) -> Table:
    shift = 1 if changes else 0
    headers = ((OPERATION,) if changes else ()) + COLUMNS
    title = "社会体育指导员信息变更表（S12）" if changes else "社会体育指导员信息表（S12）"
    text = frozenset(column + shift for column in (ID_COLUMN, PHONE_COLUMN, CERTIFICATE_COLUMN))
    return Table(title=title, headers=headers, rows=rows, unit_line=unit_line(unit.name),
                 date_line=filed_line(clock.today()), text_columns=text, sheet_name="S12")


def _instructors(db: Database, unit: Unit) -> dict[str, dict]:
    """Everyone of the unit holding a level, active or cancelled, in register order."""
    rows = db.query("SELECT * FROM people WHERE level != 'none' AND town IN (SELECT value FROM json_each(?))"
                    " ORDER BY town NULLS FIRST, village NULLS FIRST, name, id", [unit.towns_json])
    return {row["id"]: row for row in rows}


def _places(db: Database) -> dict[str, tuple[str, str | None]]:
    return {row["code"]: (row["name"], row["parent"]) for row in db.query("SELECT code, name, parent FROM places")}


def _digest(person: dict) -> str:
    """What the province holds of a person, besides the status: a change to any of it is a 修改.
    The ID number counts by its keyed hash, so the digest is the same masked or whole."""
    held = [person[key] for key in ("name", "gender", "birth_year", "id_number_hash", "id_number_masked", "level",
                                    "certificate_no", "certificate_issued_at", "town", "village", "phone",
                                    "specialty")]
    return hashlib.sha256(json.dumps(held, ensure_ascii=False).encode()).hexdigest()[:32]


def _changes(db: Database, unit_code: str, current: dict[str, dict]) -> list[tuple[str, dict]]:
    """注册, 修改 and 注销 rows against the unit's last changes-only export (none: all 注册)."""
    before = {row["record_id"]: row for row in db.query(
        "SELECT record_id, digest, status FROM export_state WHERE kind = ? AND unit = ?", [KIND, unit_code])}
    picked = []
    for person_id, person in current.items():
        was, active = before.get(person_id), person["status"] == "active"
        if active and (was is None or was["status"] != "active"):
            picked.append((REGISTER, person))
        elif was is not None and was["status"] == "active" and not active:
            picked.append((CANCEL, person))
        elif active and was["digest"] != _digest(person):
            picked.append((MODIFY, person))
    # Gone from the unit's register while registered: moved to another unit, level withdrawn, merged.
    for person_id, was in before.items():
        if person_id not in current and was["status"] == "active":
            person = next(db.query("SELECT * FROM people WHERE id = ?", [person_id]), None)
            if person is not None:
                picked.append((CANCEL, person))
    return sorted(picked, key=lambda pair: ORDER[pair[0]])


def _remember(db: Database, unit_code: str, current: dict[str, dict], export_id: int) -> None:
    """The unit's new high-water mark: its register as this export saw it."""
    db.execute("DELETE FROM export_state WHERE kind = ? AND unit = ?", [KIND, unit_code])
    db["export_state"].insert_all(({"kind": KIND, "unit": unit_code, "record_id": person_id,
                                    "digest": _digest(person), "status": person["status"], "export_id": export_id}
                                   for person_id, person in current.items()), batch_size=500)


def _row(person: dict, names: dict, sealer: Sealer | None, numbers: dict[str, str], issuer: str,
         full: bool) -> tuple[list, bool]:
    whole = whole_number(person, sealer, numbers)
    town, county = names.get(person["town"], (person["town"], None))
    # As the certificate register counts it (records/certificates.register): printed, else registered.
    issued = (person["certificate_issued_at"] or person["registered_at"]) if person["certificate_no"] else None
    return [
        person["name"], GENDERS.get(person["gender"] or "", ""), born(person, whole),
        whole or person["id_number_masked"] or "", LEVELS.get(person["level"], person["level"]),
        person["certificate_no"] or "", date.fromisoformat(clock.local_day(issued)) if issued else "",
        issuer if person["certificate_no"] else "", names.get(county, ("", None))[0] if county else "", town,
        names.get(person["village"], ("", None))[0] if person["village"] else "",
        (person["phone"] if full else mask_phone(person["phone"])) or "", person["specialty"] or "",
        roster_io.STATUSES.get(person["status"], person["status"]),
    ], whole is not None


def whole_number(person: dict, sealer: Sealer | None, numbers: dict[str, str]) -> str | None:
    if sealer is None:
        return None
    if person["id_number_enc"]:
        return sealer.open(person["id_number_enc"])
    return numbers.get(person["id_number_hash"] or "")


def born(person: dict, whole: str | None) -> date | str:
    """出生日期: the date inside a whole ID number; else only the year (a masked number hides it)."""
    if whole:
        return date(int(whole[6:10]), int(whole[10:12]), int(whole[12:14]))
    return str(person["birth_year"]) if person["birth_year"] else ""


def numbers_from_files(store: Store, files: Iterable[tuple[str, bytes]]) -> tuple[dict[str, str], int]:
    """Keyed hash → whole ID number, from S12 files exported by laptops with whole numbers. A number
    counts only if its hash is a person's here (the hub's hash key is every laptop's, decision 0085),
    so a file cannot put a number on someone it does not belong to. Returns the numbers and how
    many well-formed numbers fit nobody."""
    sealer, numbers, unmatched = Sealer(store.path.parent), {}, 0
    known = {row[0] for row in store.db.execute("SELECT id_number_hash FROM people WHERE id_number_hash IS NOT NULL")}
    for name, content in files:
        for number in _id_cells(name, content):
            digest = sealer.keyed_hash(number)
            if digest in known:
                numbers[digest] = number
            else:
                unmatched += 1
    return numbers, unmatched


def _id_cells(name: str, content: bytes) -> list[str]:
    """The well-formed numbers of the file's 身份证号 column (masked ones are skipped)."""
    rows = roster_io.read_table(content, name)
    for index, (_number, cells) in enumerate(rows[:10]):
        labels = [str(cell or "").strip() for cell in cells]
        if COLUMNS[ID_COLUMN] in labels:
            column = labels.index(COLUMNS[ID_COLUMN])
            return [number for _number, cells in rows[index + 1:] if (number := _valid(cells, column))]
    raise ValidationFailed(_("%(file)s has no 身份证号 column in its first rows; give an S12 file a laptop exported.",
                             file=name), code="not_an_s12_file", fields={"ids_from": [_("No 身份证号 column.")]})


def _valid(cells: list, column: int) -> str | None:
    if column >= len(cells) or cells[column] in (None, ""):
        return None
    try:
        return id_number(str(cells[column]))
    except ValueError:
        return None
