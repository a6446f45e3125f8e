"""结对子: sports organisations paired with communities, and the activities each pair ran.

Pairings are the hub's own records (the city association signs them), so they
live in hub-side tables: `pairings`, and `session_pairings` linking a session
to the pair that ran it without touching the synced sessions table.
"""

from __future__ import annotations

from collections import defaultdict

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import places, scope, sessions
from fieldsync.reports.kpi import MASS_ACTIVITY_KINDS
from fieldsync.reports.units import IN_UNIT, Unit, sessions_in
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now


def create(store: Store, data: dict, *, actor: str | None = None) -> dict:
    """data: organisation, village, since (date, optional), notes (optional)."""
    village = places.get(store, data["village"])
    if village is None or village["kind"] != "village":
        raise ValidationFailed(_("%(code)s is not a village or community in the gazetteer.", code=data["village"]),
                               fields={"village": [_("Unknown village.")]})
    scope.check(village["parent"])   # an account with units pairs its own towns' villages
    if store.query_one("SELECT 1 FROM pairings WHERE organisation = ? AND village = ?",
                       [data["organisation"], data["village"]]):
        raise Conflict(_("%(organisation)s is already paired with %(village)s.", organisation=data["organisation"],
                         village=village["name"]),
                       code="pairing_exists")
    since = data.get("since")
    row = {"id": new_id(), "organisation": data["organisation"], "village": data["village"],
           "since": since.isoformat() if since else None, "notes": data.get("notes"),
           "created_at": utc_now(), "actor": actor}
    store.write(lambda db: db["pairings"].insert(row))
    return row


def link(store: Store, pairing_id: str, session_id: str) -> None:
    """Record that the pair ran this session (a session belongs to one pair at most)."""
    if store.query_one("SELECT 1 FROM pairings WHERE id = ?", [pairing_id]) is None:
        raise NotFound(_("No pairing with id %(id)s.", id=pairing_id), code="pairing_not_found")
    sessions.get(store, session_id)
    store.write(lambda db: db["session_pairings"].upsert(
        {"session_id": session_id, "pairing_id": pairing_id}, pk="session_id"))


def listing(db: Database, unit: Unit, year: int) -> list[dict]:
    """The unit's pairings, each with the activities it ran in the year and their attendance."""
    pairs = list(db.query(
        "SELECT pr.*, v.name AS village_name, v.parent AS town FROM pairings pr"
        f" JOIN places v ON v.code = pr.village WHERE {IN_UNIT.format(column='v.parent')}"
        " ORDER BY pr.organisation, v.code", [unit.towns_json]))
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
