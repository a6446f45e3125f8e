"""Hubs of hubs: a county hub is a node to its city, a city hub to its province (decision 0130).

Units: which unit may be a child hub of which (a county of its city, a city of its province),
judged by the codes' digits, so that a hub whose gazetteer lacks its parent's row still knows.

Upward: a child hub appends to its own outbox (`changes`) what its merge accepted from its
laptops (each check-in and submission by id once, each field change of a person or session as
it merged it, with the laptop's HLCs and origin) beside its own edits, which are there already.
The laptop's push (push.py: batches in flight, acknowledgements, replays, gaps) then sends it
upward exactly once, unchanged. What the hub pulls from its parent writes no outbox row, so it
never goes back up. Nothing is appended until the hub enrolls with a parent; then everything
it already holds is queued once (`queue_everything`).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.errors import Conflict, Forbidden, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import place_import, places
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from fieldsync.sync import entities, hublog
from fieldsync.sync.entities import IMMUTABLE, MUTABLE

PARENT_KEY = "parent_hub"      # meta: this hub is enrolled with a parent hub (its URL)


# -- units --------------------------------------------------------------------------------------
def level(code: str | None) -> str | None:
    return place_import.code_level(code) if code else None


def is_child_unit(parent_unit: str, code: str) -> bool:
    """A county of the parent's city, or a city of the parent's province."""
    above, below = level(parent_unit), level(code)
    return (above in ("province", "city") and below == places.LEVELS[places.LEVELS.index(above) + 1]
            and place_import.within(code, parent_unit))


def same_unit(a: str, b: str) -> bool:
    return level(a) is not None and level(a) == level(b) and place_import.within(a, b)


def own_unit(db: Database) -> str | None:
    """The unit this hub serves (`init --hub --unit`), else the top of its gazetteer."""
    from fieldsync.reports import units

    home = places.home_unit(db)
    if home:
        return home
    try:
        return units.top(db)["code"]
    except NotFound:   # no gazetteer at all: a hub without a unit has no child hubs
        return None


def find_unit(db: Database, code: str) -> dict | None:
    """The gazetteer's row for a unit code given in 6 or 12 digits."""
    forms = {code, code[:6] if code.endswith("000000") else code.ljust(12, "0")}
    return next(db.query("SELECT * FROM places WHERE code IN (SELECT value FROM json_each(?))"
                         " ORDER BY length(code) LIMIT 1", [json.dumps(sorted(forms))]), None)


def child_hub_for(db: Database, unit: str, *, but: str | None = None, enrolled_only: bool = False) -> dict | None:
    """The live child hub (enrolled, or waiting with a code not yet expired) that serves `unit`."""
    for row in db.query("SELECT id, name, town, enrolled_at, code_expires_at FROM nodes WHERE kind = 'hub'"
                        " AND revoked_at IS NULL AND id IS NOT ?", [but]):
        live = row["enrolled_at"] or (not enrolled_only and (row["code_expires_at"] or "") > utc_now())
        if live and same_unit(row["town"], unit):
            return row
    return None


def check_new_child(db: Database, code: str) -> dict:
    """The unit a parent may issue a child hub's code for; refusals say why."""
    parent = own_unit(db)
    if parent is None or not is_child_unit(parent, code):
        raise ValidationFailed(
            _("%(code)s is not a unit directly under this hub's unit (%(parent)s): a city hub adds its counties, a"
              " province hub its cities.", code=code, parent=parent or "—"),
            code="not_a_child_unit", fields={"unit": [_("Not a child unit.")]})
    place = find_unit(db, code)
    if place is None:
        raise ValidationFailed(_("Unit %(code)s is not in this hub's gazetteer; import its places first.", code=code),
                               code="unknown_unit", fields={"unit": [_("Unknown unit.")]})
    taken = child_hub_for(db, place["code"])
    if taken:
        raise Conflict(_("%(hub)s (%(id)s) already serves %(unit)s; revoke it first (fieldsync nodes revoke) to"
                         " enroll another hub for it.", hub=taken["name"], id=taken["id"], unit=place["name"]),
                       code="unit_taken")
    return place


def check_enrolling_child(db: Database, node: dict, unit: str | None) -> None:
    """At redeem: the hub that asks must serve the unit its code was made for, under ours, and be
    the only one doing so (a cycle, a county under itself or a twin is refused)."""
    if not unit or not same_unit(unit, node["town"]):
        raise Conflict(_("This code is for the hub of %(code)s; the hub asking serves %(unit)s.",
                         code=node["town"], unit=unit or "—"), code="wrong_unit")
    parent = own_unit(db)
    if parent is None or not is_child_unit(parent, unit):
        raise Forbidden(_("A hub for %(unit)s cannot enroll under this hub (%(parent)s): a parent's unit must be"
                          " the one directly above.", unit=unit, parent=parent or "—"), code="not_below_this_hub")
    if child_hub_for(db, unit, but=node["id"], enrolled_only=True):
        raise Conflict(_("Another hub already serves %(unit)s here.", unit=unit), code="unit_taken")


def towns_of(db: Database, unit: str) -> frozenset[str]:
    """The towns of a unit in this hub's gazetteer (ended ones too: older records name them)."""
    return frozenset(r[0] for r in db.execute(
        "WITH RECURSIVE under(code) AS (SELECT ? UNION SELECT p.code FROM places p JOIN under u"
        " ON p.parent = u.code) SELECT places.code FROM places JOIN under USING (code)"
        " WHERE places.kind = 'town'", [unit]))


# -- upward -------------------------------------------------------------------------------------
def forwards(db: Database) -> bool:
    """True on a hub enrolled with a parent: what it accepts goes upward too."""
    return db.execute("SELECT 1 FROM meta WHERE key = ?", [PARENT_KEY]).fetchone() is not None


def last_rowid(db: Database, table: str) -> int:
    return db.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]


def forward_inserted(db: Database, entity: entities.Entity, after_rowid: int) -> None:
    """Queue the immutable rows inserted after `after_rowid`, in one statement. The push reads
    their columns from the table itself (batches._block), so the outbox row holds no copy."""
    db.execute(f"INSERT INTO changes (change_id, entity, record_id, op, hlc, payload, created_at)"
               f" SELECT 'up:' || id, ?, id, 'upsert', hlc, '{{}}', ? FROM {entity.name}"
               " WHERE rowid > ? ORDER BY rowid", [entity.name, utc_now(), after_rowid])


def forward_merged(db: Database, entity: entities.Entity, record_id: str, outcomes: list, action: str,
                   queued: set[str]) -> None:
    """Queue the fields a merge took from a laptop, each with the laptop's HLC and, as its base,
    the HLC this hub held before: the parent finds a conflict exactly when it holds another.
    `queued`: fields whose conflict waits for review here or below; the parent does not queue
    it again (it would for a certificate number two of this hub's towns gave out)."""
    taken = [o for o in outcomes if o.applied]
    if not taken:
        return
    origin = db.execute(f"SELECT origin FROM {entity.name} WHERE id = ?", [record_id]).fetchone()
    record_change(db, entity.name, record_id, "upsert", max(o.remote_hlc for o in taken), {
        "fields": {o.field: o.remote_value for o in taken}, "hlcs": {o.field: o.remote_hlc for o in taken},
        "base": {o.field: o.local_hlc for o in taken}, "origin": origin[0] if origin else None,
        "action": action, "queued": sorted(queued & {o.field for o in taken})})


def forward(db: Database, entity: str, record_id: str, op: str, hlc: str, payload: dict) -> None:
    """Queue one change as it came (a badge revocation, a delete)."""
    record_change(db, entity, record_id, op, hlc, payload)


def queue_everything(db: Database) -> int:
    """At enrollment with a parent: queue every record this hub holds that its outbox does not,
    mutable ones as their current state (no base: the parent has seen none of it)."""
    queued = 0
    # Sessions, then people, then what happened at them: the parent's policy reads the session.
    ordered = sorted(entities.pushed(), key=lambda e: (e.kind != MUTABLE, e.name != "sessions"))
    for entity in ordered:
        if entity.kind == IMMUTABLE:
            queued += db.execute(
                f"INSERT INTO changes (change_id, entity, record_id, op, hlc, payload, created_at)"
                f" SELECT 'up:' || id, ?, id, 'upsert', hlc, '{{}}', ? FROM {entity.name}"
                " WHERE id NOT IN (SELECT record_id FROM changes WHERE entity = ?) ORDER BY rowid",
                [entity.name, utc_now(), entity.name]).rowcount
        elif entity.kind == MUTABLE:
            for (record_id,) in db.execute(f"SELECT id FROM {entity.name} ORDER BY hlc").fetchall():
                state = hublog.current_change(db, entity.name, record_id)
                if state and state.get("fields"):
                    record_change(db, entity.name, record_id, "upsert", max(state["hlcs"].values()),
                                  {"fields": state["fields"], "hlcs": state["hlcs"], "base": {},
                                   "origin": state.get("origin"), "action": "sync"})
                    queued += 1
    return queued


def become_child(db: Database, parent_url: str) -> int:
    """This hub is now a node of the hub at parent_url: queue what it holds for it."""
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [PARENT_KEY, parent_url])
    return queue_everything(db)
