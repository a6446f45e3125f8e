"""Check-in flags: scans that happened are facts, stored and flagged, never refused (DESIGN §3).

The hub's merge flags each new check-in of a block in place: unknown person, revoked badge,
and double (scanned in to one session by two laptops; sync/downstream/doubles.py shows and reviews those).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

DOUBLE = "double"   # scanned in to one session by two laptops; sync/downstream/doubles.py shows and reviews them


def add_flag(flags: str | None, flag: str) -> str:
    present = [f for f in (flags or "").split(",") if f]
    return ",".join(sorted(set(present) | {flag}))


def flag_inputs(columns: dict[str, list]) -> tuple[str, str, set]:
    """From the columns, what flag_checkins asks the database about: the people (JSON), the
    sessions (JSON) and the (session, person) pairs scanned in."""
    persons, sessions, directions = columns["person_id"], columns["session_id"], columns["direction"]
    return (json.dumps(sorted({p for p in persons if p})), json.dumps(sorted(set(sessions))),
            {(session, person) for session, person, direction in zip(sessions, persons, directions)
             if direction == "in" and person})


def flag_checkins(db: Database, columns: dict[str, list], inputs: tuple | None = None) -> int:
    """Flag new check-ins in place (columns by name, the flags list is changed): unknown
    person, revoked badge, double scan from two laptops. The rows are looked at one by one
    only when the block holds one of these at all. inputs: flag_inputs(columns), if made."""
    flags = columns["flags"]
    if not flags:
        return 0
    persons, directions = columns["person_id"], columns["direction"]
    people, sessions, pairs = inputs or flag_inputs(columns)
    # Only the exceptions come back: people not at the hub, and revoked badges.
    unknown, revoked = set(), {}
    for person_id, missing, min_generation in db.execute(
            "SELECT j.value, p.id IS NULL, r.min_generation FROM json_each(?) j"
            " LEFT JOIN people p ON p.id = j.value LEFT JOIN badge_revocations r ON r.person_id = j.value"
            " WHERE p.id IS NULL OR r.person_id IS NOT NULL", [people]):
        if missing:
            unknown.add(person_id)
        if min_generation is not None:
            revoked[person_id] = min_generation
    seen_in = _scanned_in_by(db, sessions, pairs)
    nodes = set(columns["node"])
    if not unknown and not revoked and len(nodes) == 1 and all(nodes.issuperset(by) for by in seen_in.values()):
        return 0   # everyone known, no revoked badge, one laptop and nobody scanned in by another
    sessions, generations, node_of, ids = (columns["session_id"], columns["badge_generation"], columns["node"],
                                           columns["id"])
    flagged = 0
    for i, person in enumerate(persons):
        before = flags[i]
        if person in unknown:
            flags[i] = add_flag(flags[i], "unknown_person")
        generation = generations[i]
        if person in revoked and generation is not None and generation < revoked[person]:
            flags[i] = add_flag(flags[i], "revoked_badge")
        if directions[i] == "in" and person:
            by_node = seen_in.setdefault((sessions[i], person), {})
            if any(n != node_of[i] for n in by_node):
                flags[i] = add_flag(flags[i], DOUBLE)
                _flag_earlier(db, [checkin for n, checkins in by_node.items() if n != node_of[i]
                                   for checkin in checkins])
            by_node.setdefault(node_of[i], []).append(ids[i])
        flagged += flags[i] != before
    return flagged


def _scanned_in_by(db: Database, sessions: str, pairs: set) -> dict:
    """(session, person) -> {node: [check-in ids]} of the 'in' check-ins already at the hub for
    the block's 'in' scans (pairs). Read by session (a block holds a few, most of them new to
    the hub, given as JSON), then kept only for the pairs."""
    found: dict = {}
    for session_id, person_id, node, checkin_id in db.execute(
            "SELECT session_id, person_id, node, id FROM checkins WHERE direction = 'in'"
            " AND session_id IN (SELECT value FROM json_each(?))", [sessions]):
        if (session_id, person_id) in pairs:
            found.setdefault((session_id, person_id), {}).setdefault(node, []).append(checkin_id)
    return found


def _flag_earlier(db: Database, checkin_ids: list[str]) -> None:
    for checkin_id in checkin_ids:
        row = db.execute("SELECT flags FROM checkins WHERE id = ?", [checkin_id]).fetchone()
        if row is not None:
            db.execute("UPDATE checkins SET flags = ? WHERE id = ?", [add_flag(row[0], DOUBLE), checkin_id])
