"""Who taught or led a session: its trainer, one instructor (decision 0230).

A session's `trainer_id` is a session field like any other: it travels in the session's
changes and merges field by field (SessionDetails). Leading a session is service: the
上岗率 and the 一线 list (reports/service.py) count it beside reviewed attendance.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import Conflict
from fieldsync.i18n import _
from fieldsync.records import people, sessions
from fieldsync.reports.schema import IS_INSTRUCTOR
from fieldsync.store import Store

migrations = Migrations("fieldsync.trainers")


@migrations()
def m001_session_trainer(db: Database) -> None:
    db.execute("ALTER TABLE sessions ADD COLUMN trainer_id TEXT")   # people.id of the instructor who led it
    db.execute("CREATE INDEX sessions_trainer ON sessions(trainer_id) WHERE trainer_id IS NOT NULL")


def set_trainer(store: Store, session_id: str, person_id: str | None, *, actor: str | None = None) -> dict:
    """Name (or, with None, clear) the session's trainer: an active instructor this instance holds."""
    if person_id:
        person = people.get(store, person_id)
        instructor = store.query_one(f"SELECT {IS_INSTRUCTOR.format(p='people')} AS yes FROM people WHERE id = ?",
                                     [person["id"]])
        if not instructor["yes"]:
            raise Conflict(_("%(name)s is not an active instructor; a trainer is one.", name=person["name"]),
                           code="not_an_instructor")
    return sessions.modify(store, session_id, {"trainer_id": person_id or None}, actor=actor)


def name_of(db: Database, person_id: str | None) -> str:
    """A trainer's name ('' for none, or for one this instance does not hold)."""
    row = db.execute("SELECT name FROM people WHERE id = ?", [person_id]).fetchone() if person_id else None
    return row[0] if row else ""


def instructors_of(db: Database, towns_json: str) -> list[dict]:
    """The active instructors of these towns (a JSON list), for the trainer menu."""
    return list(db.query(f"SELECT id, name, town, level FROM people WHERE {IS_INSTRUCTOR.format(p='people')}"
                         " AND town IN (SELECT value FROM json_each(?)) ORDER BY name, id", [towns_json]))
