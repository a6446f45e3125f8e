"""Quarantine: changes that could not be applied, kept with why, never lost, retried later.

One table on both sides of sync. The hub holds what a laptop (or a child hub) pushed and the
merge could not apply (failure case 8); a laptop, or a child hub, holds what it pulled from
the hub above and could not apply (`pulled = 1`): the pull moves its cursor past such a change
only together with its row here, in the same transaction.

Why is stored as a code and its params, never as a sentence: the page words it in the reader's
language when it shows the row (`message`). `reason` keeps the technical detail (a validation
message, an SQLite error) for whoever debugs it, and the English sentence goes on the wire in
a push answer, which programs and logs read.
"""

from __future__ import annotations

import json
import sqlite3

from marshmallow import ValidationError
from sqlite_utils import Database

from fieldsync.errors import CATALOGUE, FieldsyncError
from fieldsync.i18n import N_, gettext
from fieldsync.store.outbox import utc_now

# Codes of changes that failed otherwise than by a catalogued error (the policy's refusals and
# other FieldsyncErrors keep their catalogue code). %(name)s are the params stored with the row.
REASONS = {
    "unknown_entity": N_("This fieldsync version does not know records of kind “%(entity)s”; upgrade it, then "
                         "retry."),
    "not_pushed": N_("Laptops may not send %(entity)s records: only the hub writes them."),
    "missing_hlcs": N_("The change carries no clock stamp for the fields %(fields)s."),
    "other_origin": N_("The record was made in the name of another laptop (%(origin)s); it waits for that "
                       "laptop's own change."),
    "other_laptop": N_("The record says it was made on another laptop (%(node)s), not on %(sender)s."),
    "unknown_town": N_("Town %(town)s is not in the gazetteer here."),
    "invalid_record": N_("The record does not pass this version's checks."),
    "inconsistent_record": N_("The record is incomplete or clashes with one stored here; an earlier change of it "
                              "may be held too."),
    "bad_record": N_("The record could not be applied."),
}


class Rejected(Exception):
    """A change that will not be applied as it stands: it is held under this code and params."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def classify(exc: Exception) -> tuple[str, dict]:
    """The code and params a failed change is held under."""
    if isinstance(exc, Rejected):
        return exc.code, exc.params
    if isinstance(exc, FieldsyncError):
        return exc.code, {"detail": exc.message}
    if isinstance(exc, ValidationError):
        return "invalid_record", {"detail": "invalid: " + json.dumps(exc.messages, ensure_ascii=False)[:500]}
    if isinstance(exc, sqlite3.IntegrityError):
        return "inconsistent_record", {"detail": str(exc)[:500]}
    return "bad_record", {"detail": str(exc)[:500] or type(exc).__name__}


def message(code: str | None, params: dict | None = None, *, translated: bool = True) -> str | None:
    """The sentence for a held change, in the reader's language (or the English msgid, for the wire);
    None for a code this version does not know (a row from before codes: show its reason)."""
    words = gettext if translated else (lambda text: text)
    if code in REASONS:
        return words(REASONS[code]) % {k: _shown(v) for k, v in (params or {}).items()}
    if code in CATALOGUE:
        return words(CATALOGUE[code].message)
    return None


def _shown(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def wire_reason(code: str, params: dict) -> str:
    """What a push answer says of a rejected change, for programs and logs: the technical detail,
    else the English sentence."""
    return params.get("detail") or message(code, params, translated=False) or code


def hold(db: Database, node_id: str | None, change, code: str, params: dict | None = None, *,
         pulled: bool = False) -> None:
    """Keep a change that was not applied, with why (`code`, `params`)."""
    change = change if isinstance(change, dict) else {"value": change}
    params = params or {}
    # Plain SQL: sqlite-utils' insert() reads the table's schema on every call, and a block
    # from a misconfigured laptop can send thousands of rows here.
    db.execute("INSERT INTO quarantine (node_id, seq, change_id, entity, record_id, change, reason, code, params,"
               " pulled, created_at, last_tried_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [node_id, change.get("seq") if isinstance(change.get("seq"), int) else None,
                _short(change.get("change_id")), _short(change.get("entity")),
                _short(change.get("record_id", change.get("id"))),
                json.dumps(change, ensure_ascii=False, default=str), params.get("detail") or code, code,
                json.dumps({k: v for k, v in params.items() if k != "detail"}, ensure_ascii=False, default=str),
                int(pulled), utc_now(), utc_now()])


def _short(value) -> str | None:
    return str(value)[:64] if value is not None else None


def worded(rows: list[dict]) -> list[dict]:
    """Rows as pages show them: `message` in the reader's language (the stored reason for old rows)."""
    for row in rows:
        params = json.loads(row.get("params") or "{}")
        row["message"] = message(row.get("code"), params) or row["reason"]
    return rows


def tried(db: Database, quarantine_id: int, applied: bool, *, by: str = "retry") -> None:
    """Count one more try of a held change; an applied one is resolved."""
    if applied:
        db.execute("UPDATE quarantine SET attempts = attempts + 1, last_tried_at = ?, resolved_at = ?,"
                   " resolved_by = ?, resolution = 'applied' WHERE id = ?", [utc_now(), utc_now(), by, quarantine_id])
    else:
        db.execute("UPDATE quarantine SET attempts = attempts + 1, last_tried_at = ? WHERE id = ?",
                   [utc_now(), quarantine_id])
