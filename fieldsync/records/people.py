"""People: instructors, trainees, volunteers. Register, modify, cancel (注册/修改/注销)."""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.records import mutable, places
from fieldsync.records.pii import Sealer
from fieldsync.records.validators import (
    mask_id_number,
    mask_phone,
    whole_number_or_none,
)
from fieldsync.store import Store, new_id

TABLE = "people"
PUBLIC_COLUMNS = ("id", "name", "gender", "birth_year", "phone", "id_number_masked", "town",
                  "village", "level", "specialty", "certificate_no", "status", "registered_at",
                  "badge_generation", "origin", "hlc", "updated_at")


def _with_id_number(store: Store, data: dict) -> dict:
    """Replace a plain id_number by its sealed, hashed and masked forms."""
    data = dict(data)
    number = data.pop("id_number", None)
    if number:
        sealer = Sealer(store.path.parent)
        data.update(id_number_enc=sealer.seal(number), id_number_hash=sealer.keyed_hash(number),
                    id_number_masked=mask_id_number(number))
    if isinstance(data.get("registered_at"), date):
        data["registered_at"] = data["registered_at"].isoformat()
    return data


def register(store: Store, data: dict, *, actor: str | None = None, person_id: str | None = None) -> dict:
    """注册: add a person. data comes from PersonSchema."""
    places.check_village_in_town(store, data["town"], data.get("village"))
    fields = _with_id_number(store, data)
    fields.setdefault("registered_at", date.today().isoformat())
    fields.update(status="active", badge_generation=1)
    fields.setdefault("level", "none")
    record_id = person_id or new_id()

    def work(db: Database) -> dict:
        _refuse_duplicate(db, fields)
        return mutable.save_local(db, store.hlc, TABLE, record_id, fields, actor=actor, action="register")

    return store.write(work)


def register_many(store: Store, rows: list[dict], *, actor: str | None = None) -> list[dict]:
    """Register every row in one transaction: all of them, or none (roster import)."""
    for row in rows:
        places.check_village_in_town(store, row["town"], row.get("village"))
    prepared = [_with_id_number(store, row) for row in rows]

    def work(db: Database) -> list[dict]:
        saved = []
        for fields in prepared:
            fields.setdefault("registered_at", date.today().isoformat())
            fields.update(status="active", badge_generation=1)
            _refuse_duplicate(db, fields)
            saved.append(mutable.save_local(db, store.hlc, TABLE, new_id(), fields,
                                            actor=actor, action="register"))
        return saved

    return store.write(work)


def _refuse_duplicate(db: Database, fields: dict) -> None:
    if fields.get("id_number_hash"):
        row = db.execute("SELECT id, name FROM people WHERE id_number_hash = ?",
                         [fields["id_number_hash"]]).fetchone()
        if row:
            raise Conflict(f"This ID number is already registered to {row[1]}.",
                           code="duplicate_person", fields={"id_number": ["Already registered."]},
                           extra={"person": row[0]})


def modify(store: Store, person_id: str, changes: dict, *, actor: str | None = None) -> dict:
    """修改: change some fields. A level change is recorded as a promotion."""
    current = get(store, person_id)
    town = changes.get("town", current["town"])
    if "town" in changes or "village" in changes:
        places.check_village_in_town(store, town, changes.get("village", current["village"]))
    fields = _with_id_number(store, changes)
    action = "promote" if "level" in fields and fields["level"] != current["level"] else "modify"
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, person_id, fields,
                                                     actor=actor, action=action))


def cancel(store: Store, person_id: str, *, actor: str | None = None, reason: str | None = None) -> dict:
    """注销: the person stays in the history, but badges no longer check in."""
    current = get(store, person_id)
    if current["status"] == "cancelled":
        raise Conflict(f"{current['name']} is already cancelled.", code="already_cancelled")
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, person_id,
                                                     {"status": "cancelled"}, actor=actor,
                                                     action="cancel"))


def restore(store: Store, person_id: str, *, actor: str | None = None) -> dict:
    get(store, person_id)
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, person_id,
                                                     {"status": "active"}, actor=actor,
                                                     action="restore"))


def get(store: Store, person_id: str) -> dict:
    row = store.query_one(f"SELECT {', '.join(PUBLIC_COLUMNS)} FROM people WHERE id = ?", [person_id])
    if row is None:
        raise NotFound(f"No person with id {person_id}.", code="person_not_found")
    return row


def find(store: Store, person_id: str) -> dict | None:
    return store.query_one(f"SELECT {', '.join(PUBLIC_COLUMNS)} FROM people WHERE id = ?", [person_id])


def where(filters: dict) -> tuple[str, list]:
    """The WHERE clause for roster filters: q (a name part, or a phone: whole number or its
    last four digits), town, village, level, status ('active' by default, 'all' for every one)."""
    clauses, params = [], []
    text = (filters.get("q") or "").strip()
    if whole_number_or_none(text) is not None:
        clauses.append("(phone = ? OR phone LIKE ?)")
        params += [text, "%" + text]
    elif text:
        clauses.append("name LIKE ?")
        params.append("%" + text.replace("%", "").replace("_", "") + "%")
    for column in ("town", "village", "level"):
        if filters.get(column):
            clauses.append(f"{column} = ?")
            params.append(filters[column])
    status = filters.get("status") or "active"
    if status != "all":
        clauses.append("status = ?")
        params.append(status)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def search(store: Store, text: str = "", *, limit: int = 50, offset: int = 0, **filters) -> list[dict]:
    """People matching the filters of `where`, by name."""
    sql, params = where({**filters, "q": text})
    return store.query(f"SELECT {', '.join(PUBLIC_COLUMNS)} FROM people{sql}"
                       " ORDER BY name, id LIMIT ? OFFSET ?", params + [limit, offset])


def page(store: Store, filters: dict, *, number: int = 1, size: int = 50) -> tuple[list[dict], int]:
    """One page of the roster, and how many people match in all."""
    sql, params = where(filters)
    total = store.db.execute(f"SELECT COUNT(*) FROM people{sql}", params).fetchone()[0]
    return search(store, filters.get("q", ""), limit=size, offset=(number - 1) * size,
                  **{k: v for k, v in filters.items() if k != "q"}), total


def count(store: Store, *, town: str | None = None) -> int:
    if town:
        return store.db.execute("SELECT COUNT(*) FROM people WHERE town = ?", [town]).fetchone()[0]
    return store.db.execute("SELECT COUNT(*) FROM people").fetchone()[0]


def history(store: Store, person_id: str) -> list[dict]:
    return mutable.history(store.db, TABLE, person_id)


def masked(person: dict) -> dict:
    """The person as lists and exports show them by default."""
    return {**person, "phone": mask_phone(person.get("phone"))}
