"""结对子: sports organisations paired with communities, and what each pair bore.

Pairings are the hub's own records (the city association signs them): `pairings` names an
organisation (reports/organisations.py) and a village, and is published to the village's
town's laptops; `session_pairings` links a session to the pair that ran it without
touching the synced sessions table. A pairing's fruit (decision 0231): the activities it
ran, the people they reached, the fitness teams (健身团队) it formed, and the local leaders
found there (`people.recruited_via`) who became instructors: the plan's "裂变式" aim.
"""

from __future__ import annotations

from collections import defaultdict

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import people, places, scope, sessions
from fieldsync.records.schemas import MASS_ACTIVITY_KINDS
from fieldsync.reports import organisations
from fieldsync.reports.schema import IS_INSTRUCTOR, ONE_IF
from fieldsync.reports.units import IN_UNIT, Unit, sessions_in
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now

# A pairing with its organisation's name and its village's name and town.
PAIRS = ("SELECT pr.*, o.name AS organisation, o.kind AS organisation_kind, v.name AS village_name,"
         " v.parent AS town FROM pairings pr JOIN organisations o ON o.id = pr.organisation_id"
         " JOIN places v ON v.code = pr.village")


def create(store: Store, data: dict, *, actor: str | None = None) -> dict:
    """data: organisation (an organisation's id), village, since (date, optional), notes (optional)."""
    village = places.get(store, data["village"])
    if village is None or village["kind"] != "village":
        raise ValidationFailed(_("%(code)s is not a village or community in the gazetteer.", code=data["village"]),
                               fields={"village": [_("Unknown village.")]})
    scope.check(village["parent"])   # an account with units pairs its own towns' villages
    organisation = organisations.get(store.db, data["organisation"])
    if store.query_one("SELECT 1 FROM pairings WHERE organisation_id = ? AND village = ?",
                       [organisation["id"], data["village"]]):
        raise Conflict(_("%(organisation)s is already paired with %(village)s.", organisation=organisation["name"],
                         village=village["name"]),
                       code="pairing_exists")
    since = data.get("since")
    row = {"id": new_id(), "organisation_id": organisation["id"], "village": data["village"],
           "town": village["parent"], "since": since.isoformat() if since else None, "notes": data.get("notes"),
           "created_at": utc_now(), "actor": actor}
    return store.write(lambda db: organisations.publish(db, store, "pairings", row))


def get(db: Database, pairing_id: str) -> dict:
    """A pairing with its organisation's and village's names, if in the account's towns."""
    row = next(db.query(f"{PAIRS} WHERE pr.id = ?", [pairing_id]), None)
    if row is None:
        raise NotFound(_("No pairing with id %(id)s.", id=pairing_id), code="pairing_not_found")
    scope.check(row["town"])
    return row


def link(store: Store, pairing_id: str, session_id: str) -> None:
    """Record that the pair ran this session (a session belongs to one pair at most)."""
    get(store.db, pairing_id)
    sessions.get(store, session_id)
    store.write(lambda db: db["session_pairings"].upsert(
        {"session_id": session_id, "pairing_id": pairing_id}, pk="session_id"))


def listing(db: Database, unit: Unit, year: int) -> list[dict]:
    """The unit's pairings, each with the activities it ran in the year and their attendance."""
    pairs = list(db.query(f"{PAIRS} WHERE {IN_UNIT.format(column='v.parent')} ORDER BY o.name, v.code",
                          [unit.towns_json]))
    activities = defaultdict(list)
    for row in db.query(
            "SELECT sp.pairing_id, s.id, s.title, s.kind, s.starts_at,"
            " (SELECT COUNT(*) FROM rollup_attendance a WHERE a.session_id = s.id AND a.ins > 0) AS attendees"
            " FROM session_pairings sp JOIN sessions s ON s.id = sp.session_id"
            " WHERE s.status = 'active' AND s.starts_at >= ? AND s.starts_at < ? ORDER BY s.starts_at",
            [str(year), str(year + 1)]):
        activities[row["pairing_id"]].append(row)
    return [{**pair, "activities": activities[pair["id"]]} for pair in pairs]


def unlinked_sessions(db: Database, unit: Unit, year: int, *, limit: int = 200) -> list[dict]:
    """The unit's volunteer and theme activities of the year that no pairing claims yet."""
    where, params = sessions_in(unit, year, MASS_ACTIVITY_KINDS, alias="s")
    return list(db.query(
        f"SELECT s.id, s.title, s.starts_at, s.town FROM sessions s WHERE {where}"
        " AND NOT EXISTS (SELECT 1 FROM session_pairings sp WHERE sp.session_id = s.id)"
        " ORDER BY s.starts_at LIMIT ?", params + [limit]))


def add_team(store: Store, pairing_id: str, data: dict, *, actor: str | None = None) -> dict:
    """A fitness team (健身团队) the pairing formed. data: name, formed_on (date, optional), members."""
    pair = get(store.db, pairing_id)
    formed = data.get("formed_on")
    row = {"id": new_id(), "pairing_id": pairing_id, "town": pair["town"], "name": data["name"].strip(),
           "formed_on": formed.isoformat() if formed else None, "members": data.get("members"),
           "created_at": utc_now(), "actor": actor}
    return store.write(lambda db: organisations.publish(db, store, "fitness_teams", row))


def recruit(store: Store, pairing_id: str, person_id: str, *, actor: str | None = None) -> dict:
    """Record that the person, of the pairing's town, is a local leader the pairing found. The
    mark is a person field (`recruited_via`): it syncs with the person, and reaches the pairing's
    count as an instructor once the person is promoted."""
    pair = get(store.db, pairing_id)
    person = people.get(store, person_id)
    if person["town"] != pair["town"]:
        raise ValidationFailed(_("%(name)s lives in another town than %(village)s.", name=person["name"],
                                 village=pair["village_name"]), fields={"person": [_("Not of the pairing's town.")]})
    return people.modify(store, person_id, {"recruited_via": pairing_id}, actor=actor)


def activities(db: Database, pairing_id: str) -> list[dict]:
    """Every activity the pair ran, newest first, with how many people came."""
    return list(db.query(
        "SELECT s.id, s.title, s.kind, s.starts_at, s.status,"
        " (SELECT COUNT(*) FROM rollup_attendance a WHERE a.session_id = s.id AND a.ins > 0) AS attendees"
        " FROM session_pairings sp JOIN sessions s ON s.id = sp.session_id WHERE sp.pairing_id = ?"
        " ORDER BY s.starts_at DESC", [pairing_id]))


def teams(db: Database, pairing_id: str) -> list[dict]:
    return list(db.query("SELECT * FROM fitness_teams WHERE pairing_id = ? ORDER BY formed_on NULLS FIRST, name", [pairing_id]))


def leaders(db: Database, pairing_id: str) -> list[dict]:
    """The local leaders the pairing found (people of its town marked so), and whether each is an instructor."""
    return list(db.query(
        f"SELECT p.id, p.name, p.level, {ONE_IF.format(IS_INSTRUCTOR.format(p='p'))} AS instructor FROM people p"
        " JOIN pairings pr ON pr.id = p.recruited_via AND pr.town = p.town"
        " WHERE p.recruited_via = ? AND p.status = 'active' ORDER BY p.name", [pairing_id]))


def fruit(db: Database, unit: Unit, year: int) -> list[dict]:
    """Each pairing of the unit with what it bore: activities it ran in the year and the people
    they reached; teams formed up to the year's end; leaders found, and those now instructors."""
    reached = {row["pairing_id"]: row["people"] for row in db.query(
        "SELECT sp.pairing_id, COUNT(DISTINCT COALESCE(pm.kept_id, a.person_id)) AS people"
        " FROM session_pairings sp JOIN sessions s ON s.id = sp.session_id"
        " JOIN rollup_attendance a ON a.session_id = s.id AND a.ins > 0"
        " LEFT JOIN person_merges pm ON pm.merged_id = a.person_id"
        " WHERE s.status = 'active' AND s.starts_at >= ? AND s.starts_at < ? GROUP BY sp.pairing_id",
        [str(year), str(year + 1)])}
    rows = []
    for pair in listing(db, unit, year):
        found = leaders(db, pair["id"])
        formed = [t for t in teams(db, pair["id"]) if (t["formed_on"] or "") < str(year + 1)]
        rows.append({**pair, "reached": reached.get(pair["id"], 0), "teams": len(formed),
                     "members": sum(t["members"] or 0 for t in formed), "leaders": len(found),
                     "instructors": sum(1 for leader in found if leader["instructor"])})
    return rows
