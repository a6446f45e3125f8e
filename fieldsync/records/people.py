"""People: instructors, trainees, volunteers. Register, modify, cancel (注册/修改/注销).

Every read and write here asks records/scope.py whether the account at work may
touch the person's town.
"""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import mutable, places, scope
from fieldsync.records.pii import Sealer
from fieldsync.records.schemas import LEVELS
from fieldsync.records.validators import (
    MOBILE,
    mask_id_number,
    mask_phone,
    whole_number_or_none,
)
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now

TABLE = "people"
PUBLIC_COLUMNS = ("id", "name", "gender", "birth_year", "phone", "id_number_masked", "town",
                  "village", "level", "specialty", "certificate_no", "status", "registered_at",
                  "badge_generation", "verified_at", "verified_by", "certificate_issued_at", "recruited_via", "origin",
                  "hlc", "updated_at")
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


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
    scope.check(data["town"])
    places.check_village_in_town(store, data["town"], data.get("village"))
    fields = _with_id_number(store, data)
    fields.setdefault("registered_at", clock.today().isoformat())
    fields.update(status="active", badge_generation=1)
    fields.setdefault("level", "none")
    record_id = person_id or new_id()

    def work(db: Database) -> dict:
        _refuse_duplicate(db, fields)
        refuse_taken_certificate(db, fields.get("certificate_no"), record_id)
        return mutable.save_local(db, store.hlc, TABLE, record_id, fields, actor=actor, action="register")

    return store.write(work)


def register_many(store: Store, rows: list[dict], *, actor: str | None = None) -> list[dict]:
    """Register every row in one transaction: all of them, or none (roster import)."""
    for row in rows:
        scope.check(row["town"])
        places.check_village_in_town(store, row["town"], row.get("village"))
    prepared = [_with_id_number(store, row) for row in rows]

    def work(db: Database) -> list[dict]:
        saved = []
        for fields in prepared:
            fields.setdefault("registered_at", clock.today().isoformat())
            fields.update(status="active", badge_generation=1)
            _refuse_duplicate(db, fields)
            person_id = new_id()
            refuse_taken_certificate(db, fields.get("certificate_no"), person_id)
            saved.append(mutable.save_local(db, store.hlc, TABLE, person_id, fields,
                                            actor=actor, action="register"))
        return saved

    return store.write(work)


def _refuse_duplicate(db: Database, fields: dict) -> None:
    if fields.get("id_number_hash"):
        row = db.execute("SELECT id, name FROM people WHERE id_number_hash = ?",
                         [fields["id_number_hash"]]).fetchone()
        if row:
            raise Conflict(_("This ID number is already registered to %(name)s.", name=row[1]),
                           code="duplicate_person", fields={"id_number": [_("Already registered.")]},
                           extra={"person": row[0]})


def certificate_holder(db: Database, certificate_no: str | None, person_id: str | None = None) -> dict | None:
    """Who else holds this certificate number (name, town name), if anyone."""
    if not certificate_no:
        return None
    row = db.execute("SELECT p.id, p.name, COALESCE(t.name, p.town) FROM people p"
                     " LEFT JOIN places t ON t.code = p.town"
                     " WHERE p.certificate_no = ? AND p.id IS NOT ? LIMIT 1", [certificate_no, person_id]).fetchone()
    return {"id": row[0], "name": row[1], "town": row[2]} if row else None


def refuse_taken_certificate(db: Database, certificate_no: str | None, person_id: str | None) -> None:
    """A certificate number belongs to one person: a second holder is refused, naming the first."""
    holder = certificate_holder(db, certificate_no, person_id)
    if holder:
        message = _("Certificate number %(number)s already belongs to %(name)s (%(town)s)",
                    number=certificate_no, name=holder["name"], town=holder["town"])
        raise Conflict(_("%(taken)s: a certificate number belongs to one person.", taken=message),
                       code="certificate_taken",
                       fields={"certificate_no": [message]}, extra={"person": holder["id"]})


def rehash(store: Store, *, actor: str | None = None) -> int:
    """Remake the ID-number hashes of the people this laptop sealed, under the hash key it holds now
    (after enrollment gave it the hub's). Each new hash syncs like any change. Returns how many."""
    sealer = Sealer(store.path.parent)

    def work(db: Database) -> int:
        changed = 0
        for person_id, sealed, old in db.execute("SELECT id, id_number_enc, id_number_hash FROM people"
                                                 " WHERE id_number_enc IS NOT NULL").fetchall():
            new = sealer.keyed_hash(sealer.open(sealed))
            if new != old:
                mutable.save_local(db, store.hlc, TABLE, person_id, {"id_number_hash": new},
                                   actor=actor, action="rehash")
                changed += 1
        return changed

    return store.write(work)


def modify(store: Store, person_id: str, changes: dict, *, actor: str | None = None,
           action: str = "modify") -> dict:
    """修改: change some fields (a level too, to correct it; only promote() records a promotion)."""
    current = get(store, person_id)
    town = changes.get("town", current["town"])
    scope.check(town)
    if "town" in changes or "village" in changes:
        places.check_village_in_town(store, town, changes.get("village", current["village"]))
    fields = _with_id_number(store, changes)

    def work(db: Database) -> dict:
        refuse_taken_certificate(db, fields.get("certificate_no"), person_id)
        return mutable.save_local(db, store.hlc, TABLE, person_id, fields, actor=actor, action=action)

    return store.write(work)


def promotion(person: dict, level: str, certificate_no: str | None = None) -> dict:
    """The change that promotes the person to level: the one rule for every promotion (the node's
    and the hub's person pages, the assessment form). Only an active person, only upwards."""
    if person["status"] != "active":
        raise Conflict(_("%(name)s is cancelled; restore the registration first.", name=person["name"]),
                       code="person_cancelled")
    if LEVEL_RANK[level] <= LEVEL_RANK.get(person["level"], 0):
        raise Conflict(_("%(name)s is already %(present)s; %(asked)s is no promotion. Use modify to correct "
                         "a level.", name=person["name"], present=LEVELS.get(person["level"], person["level"]),
                         asked=LEVELS[level]),
                       code="not_a_promotion", fields={"level": [_("Not higher than the present level.")]})
    issued = {"certificate_no": certificate_no, "certificate_issued_at": utc_now()} if certificate_no else {}
    return {"level": level, **issued}


def promote(store: Store, person_id: str, level: str, certificate_no: str | None = None, *,
            actor: str | None = None) -> dict:
    """晋级: raise the person's level (history action 'promote'), with its certificate number if
    one is given now; one may be assigned when the certificate is printed (records/certificates)."""
    return modify(store, person_id, promotion(get(store, person_id), level, certificate_no), actor=actor,
                  action="promote")


def cancel(store: Store, person_id: str, *, actor: str | None = None, reason: str | None = None) -> dict:
    """注销: the person stays in the history, but badges no longer check in."""
    current = get(store, person_id)
    if current["status"] == "cancelled":
        raise Conflict(_("%(name)s is already cancelled.", name=current["name"]), code="already_cancelled")
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, person_id,
                                                     {"status": "cancelled"}, actor=actor,
                                                     action="cancel"))


def verify(store: Store, person_id: str, *, actor: str) -> dict:
    """逐条核实: mark the record checked against the person (or their papers), by whom and when.
    The mark is a field like any other: it syncs, and the latest mark wins."""
    person = get(store, person_id)
    if person["status"] != "active":
        raise Conflict(_("%(name)s is cancelled; only active registrations are verified.", name=person["name"]),
                       code="person_cancelled")
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, person_id,
                                                     {"verified_at": utc_now(), "verified_by": actor},
                                                     actor=actor, action="verify"))


def verification_progress(store: Store) -> list[dict]:
    """Per town: active people and how many of them are verified (逐条核实 progress)."""
    return store.query("SELECT p.town, COALESCE(t.name, p.town) AS name, COUNT(*) AS total,"
                       " COUNT(p.verified_at) AS verified FROM people p LEFT JOIN places t ON t.code = p.town"
                       " WHERE p.status = 'active' GROUP BY p.town, t.name ORDER BY p.town")


def restore(store: Store, person_id: str, *, actor: str | None = None) -> dict:
    get(store, person_id)
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, person_id,
                                                     {"status": "active"}, actor=actor,
                                                     action="restore"))


def get(store: Store, person_id: str) -> dict:
    row = find(store, person_id)
    if row is None:
        raise NotFound(_("No person with id %(id)s.", id=person_id), code="person_not_found")
    return row


def find(store: Store, person_id: str) -> dict | None:
    row = store.query_one(f"SELECT {', '.join(PUBLIC_COLUMNS)} FROM people WHERE id = ?", [person_id])
    if row:
        scope.check(row["town"])
    return row


def where(filters: dict, *, whole_numbers: bool = False) -> tuple[str, list]:
    """The WHERE clause for roster filters: q (a name part, or a phone: whole number or its
    last digits), town, village, level, status ('active' by default, 'all' for every one).

    A caller shown masked phones searches by the whole number only (`whole_numbers`): a
    suffix search would read a masked number back digit by digit, ten guesses a digit."""
    clauses, params = [], []
    text = (filters.get("q") or "").strip()
    digits = whole_number_or_none(text) is not None
    if digits and whole_numbers:
        if not MOBILE.match(text):
            raise ValidationFailed(_("Search a phone by its whole 11-digit number."),
                                   code="whole_number_only", fields={"q": [_("Type the whole mobile number.")]})
        clauses.append("phone = ?")
        params.append(text)
    elif digits:
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
    in_scope, scope_params = scope.clause()
    if in_scope:
        clauses.append(in_scope)
        params += scope_params
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def search(store: Store, text: str = "", *, limit: int = 50, offset: int = 0, whole_numbers: bool = False,
           **filters) -> list[dict]:
    """People matching the filters of `where`, by name."""
    sql, params = where({**filters, "q": text}, whole_numbers=whole_numbers)
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
