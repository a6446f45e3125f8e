"""Roster export: the 花名册 as CSV or XLSX with the Chinese headers town offices use (the same
columns an import reads, records/roster_io.py), written by the one writer of each format
(fieldsync/sheets/). Phones and ID numbers are masked unless a full export is asked for, and every
export is written to the audit history (个人信息保护法, shared/CONVENTIONS.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync import sheets
from fieldsync.errors import BadRequest
from fieldsync.i18n import _
from fieldsync.records import people, places
from fieldsync.records.pii import Sealer
from fieldsync.records.roster_io import EXPORT_COLUMNS, STATUSES
from fieldsync.records.schemas import GENDERS, LEVELS, Choice, PlaceCode
from fieldsync.records.validators import mask_phone
from fieldsync.sheets.table import Table
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now

TITLE = "花名册"


class RosterFilter(Schema):
    """What a roster list or export is narrowed to (query string or CLI options)."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=50))
    town = PlaceCode(allow_none=True)
    village = PlaceCode(allow_none=True)
    level = Choice(LEVELS, allow_none=True)
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "cancelled", "all"]))


@dataclass
class Export:
    content: bytes
    rows: int
    format: str

    @property
    def mimetype(self) -> str:
        return sheets.CONTENT_TYPES[self.format]

    @property
    def filename(self) -> str:
        return f"{TITLE}-{clock.today():%Y%m%d}.{self.format}"


def export_format(filename: str | Path) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in sheets.WRITERS:
        raise BadRequest(_("Export to .csv or .xlsx, not %(name)s.", name=Path(filename).name), code="unsupported_file")
    return suffix


def export_roster(store: Store, fmt: str, filters: dict | None = None, *, full: bool = False,
                  actor: str | None = None) -> Export:
    """The roster as CSV or XLSX. Phones and ID numbers masked unless full; every export is logged."""
    filters = filters or {}
    rows = _export_rows(store, filters, full)
    export = Export(_render(fmt, rows), len(rows), fmt)
    chosen = {k: v for k, v in filters.items() if v and not (k == "status" and v == "active")}
    entry = {"entity": "roster", "record_id": new_id(), "action": "export_full" if full else "export",
             "changes": json.dumps({"rows": len(rows), "format": fmt, "filters": chosen}, ensure_ascii=False),
             "actor": actor, "at": utc_now()}
    store.write(lambda db: db["history"].insert(entry))
    return export


def export_file(store: Store, path: Path, filters: dict | None = None, *, full: bool = False,
                actor: str | None = None) -> Export:
    """Export to a file whose suffix (.csv or .xlsx) picks the format."""
    fmt = export_format(path)
    check_folder(path)
    export = export_roster(store, fmt, filters, full=full, actor=actor)
    Path(path).write_bytes(export.content)
    return export


def check_folder(path: Path) -> None:
    """Refuse before any work is done when the file could not be written where asked."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise BadRequest(_("The folder %(folder)s does not exist.", folder=folder), code="no_folder")


def template(fmt: str) -> Export:
    """The header row alone: an empty roster for offices to fill in."""
    return Export(_render(fmt, []), 0, fmt)


def export_log(store: Store, limit: int = 20) -> list[dict]:
    rows = store.query("SELECT action, changes, actor, at FROM history WHERE entity = 'roster'"
                       " ORDER BY id DESC LIMIT ?", [limit])
    return [{**row, "full": row["action"] == "export_full", **json.loads(row["changes"])} for row in rows]


def _export_rows(store: Store, filters: dict, full: bool) -> list[dict]:
    where, params = people.where(filters)
    names = places.names(store)
    sealer = Sealer(store.path.parent) if full else None
    out = []
    for person in store.query(f"SELECT * FROM people{where} ORDER BY town NULLS FIRST, village NULLS FIRST, name, id", params):
        out.append({
            **{key: person.get(key) for key in ("name", "birth_year", "specialty", "certificate_no")},
            "gender": GENDERS.get(person["gender"]), "level": LEVELS.get(person["level"]),
            "phone": person["phone"] if full else mask_phone(person["phone"]),
            "id_number": _id_number(person, sealer),
            "town": names.get(person["town"]), "town_code": person["town"],
            "village": names.get(person["village"]), "village_code": person["village"],
            "registered_at": date.fromisoformat(person["registered_at"]) if person["registered_at"] else None,
            "status": STATUSES.get(person["status"], person["status"]),
        })
    return out


def _id_number(person: dict, sealer: Sealer | None) -> str | None:
    """Full only where this laptop sealed it; people synced from the hub carry the masked form alone."""
    if sealer and person["id_number_enc"]:
        return sealer.open(person["id_number_enc"])
    return person["id_number_masked"]


def _render(fmt: str, rows: list[dict]) -> bytes:
    if fmt not in sheets.WRITERS:
        raise BadRequest(_("Export to csv or xlsx, not %(name)s.", name=fmt), code="unsupported_file")
    table = Table(title=TITLE, headers=[c.label for c in EXPORT_COLUMNS], sheet_name=TITLE,
                  rows=([row[c.key] for c in EXPORT_COLUMNS] for row in rows),
                  text_columns=frozenset(i for i, c in enumerate(EXPORT_COLUMNS) if c.text))
    return b"".join(sheets.write(table, fmt))
