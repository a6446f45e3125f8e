"""Hub: may this laptop make this change? One function per entity decides (DESIGN §8).

Like CouchDB's validate_doc_update, every change a laptop sends, by push or USB bundle,
is put to the policy of its entity before the merge applies it, and the retry of a
quarantined change is put to it again with the laptop that sent it. The rule is
ownership by town, whatever ids a change names (record ids are no secret). A sender's
towns are a set: a laptop's one town, or every town of a child hub's unit (senders.py):

- people, sessions: a change applies only to a record of the sender's town. A new
  session must be in the sender's town; a new person too, unless the laptop checked
  that person in at one of its own sessions (a walk-in from the next town, unranked:
  the hub hands the record to the person's town). A change of `town` on an existing record
  is a move, which an admin applies from the quarantine page (`move_request`).
- deletes: only of a record the sender's town owns and the sender made.
- badge revocations: only of the sender's own town's people.
- check-ins, submissions, reviews of hours: only at (of) a session of the sender's town
  (people of any town may come to it); a submission without a session, only for the
  sender's town's people; a review never replaces one another sender made.
- nominations and consents (最美): only of the sender's town's people, never replacing one
  another sender made; a nomination in the sender's own unit's name.
- an instructor's correction request: only a decision, once, on a request the hub sent the
  sender's town.

A refused change raises (or, for a block, is listed as) `Refused` with its code; the
merge quarantines it with that code and writes an audit row (docs/decisions/0050).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlite_utils import Database

from fieldsync.errors import Refused
from fieldsync.records import period_locks

NOT_YOUR_TOWN = "not_your_town"         # creates a record in another town
NOT_YOUR_RECORD = "not_your_record"     # changes, deletes or revokes what another town owns
NOT_YOUR_SESSION = "not_your_session"   # records at a session that is not the sender's town's
MOVE_REQUEST = "move_request"           # a change of town: an admin applies it
PERIOD_LOCKED = period_locks.PERIOD_LOCKED   # an activity of a year whose filing was accepted
CODES = (NOT_YOUR_TOWN, NOT_YOUR_RECORD, NOT_YOUR_SESSION, MOVE_REQUEST, PERIOD_LOCKED)
# Waiting for an admin, not retried at every merge.
FOR_AN_ADMIN = (MOVE_REQUEST, PERIOD_LOCKED)


@dataclass
class Batch:
    """What the policy may look at beyond the hub's tables: the batch's own check-in blocks
    (a walk-in's person arrives before the check-in that vouches for them). Read lazily: only a
    person created in another town asks."""
    blocks: list = field(default_factory=list)
    _walked_in: set | None = None

    def walked_in(self, db: Database, sender, person_id: str) -> bool:
        if self._walked_in is None:
            self._walked_in = set()
            for block in self.blocks:
                if block.entity.name == "checkins":
                    columns = dict(zip(block.entity.columns, block.columns))
                    refused = checkins(db, sender, columns)
                    self._walked_in |= {p for i, p in enumerate(columns["person_id"])
                                        if i not in refused and i not in block.bad}
        if person_id in self._walked_in:
            return True
        # Retried later: a check-in of theirs that this sender recorded at its sessions is here by now.
        return any(sender.speaks_for(node) and town in sender.towns for node, town in db.execute(
            "SELECT c.node, s.town FROM checkins c JOIN sessions s ON s.id = c.session_id WHERE c.person_id = ?",
            [person_id]))


# -- mutable records -------------------------------------------------------------------------------
def people(db: Database, sender, record_id: str, values: dict, batch: Batch) -> None:
    # A walk-in is a newcomer: no rank or certificate in another town's figures on this laptop's word.
    _owned(db, sender, "people", record_id, values,
           elsewhere=lambda: values.get("level", "none") == "none" and not values.get("certificate_no")
           and batch.walked_in(db, sender, record_id))


def sessions(db: Database, sender, record_id: str, values: dict, batch: Batch) -> None:
    _owned(db, sender, "sessions", record_id, values, elsewhere=lambda: False)
    # A laptop's edit made before the lock reached it: a review item, not a silent change.
    stored = db.execute("SELECT town, starts_at FROM sessions WHERE id = ?", [record_id]).fetchone()
    touched = [tuple(stored)] if stored else []
    touched.append((values.get("town", stored and stored[0]), values.get("starts_at", stored and stored[1])))
    for town, starts_at in touched:
        lock = period_locks.locking(db, town, starts_at)
        if lock:
            raise Refused(f"{sender.name} changed session {record_id}: {period_locks.message(lock)}",
                          code=PERIOD_LOCKED)


def _owned(db: Database, sender, table: str, record_id: str, values: dict,
           elsewhere: Callable[[], bool]) -> None:
    stored = db.execute(f"SELECT town FROM {table} WHERE id = ?", [record_id]).fetchone()
    if stored is None:
        town = values.get("town")
        if town in sender.towns or (town and elsewhere()):
            return
        raise Refused(f"{sender.name} may create {table} in its own town only ({sender.town}), not in "
                      f"{town or 'no town'}.", code=NOT_YOUR_TOWN)
    if "town" in values and values["town"] != stored[0]:
        # A move within the sender's own towns is its own (a child hub's admin applied it there);
        # a laptop owns one town, so every move it sends waits for an admin here.
        if stored[0] in sender.towns and values["town"] in sender.towns:
            return
        if stored[0] in sender.towns or values["town"] in sender.towns:
            raise Refused(f"moves {table} {record_id} from {stored[0]} to {values['town']}: a move waits "
                          "for an admin of the hub.", code=MOVE_REQUEST)
        raise Refused(f"{sender.name} may not move a record of {stored[0]}.", code=NOT_YOUR_RECORD)
    if stored[0] not in sender.towns:
        raise Refused(f"{sender.name} may not change {table} {record_id}: it belongs to {stored[0]}.",
                      code=NOT_YOUR_RECORD)


def delete(db: Database, sender, entity, record_id: str) -> None:
    """A delete: the record must be the sender's town's and made under one of its origins."""
    if entity.kind == "immutable":
        row = db.execute(f"SELECT * FROM {entity.name} WHERE id = ?", [record_id])
        names, found = [c[0] for c in row.description], row.fetchone()
        made_here = found is not None and sender.speaks_for(found[names.index("node")])
        if made_here and not immutable(db, sender, entity, {n: [v] for n, v in zip(names, found)}):
            return
    elif entity.kind == "mutable":
        found = db.execute(f"SELECT town, origin FROM {entity.name} WHERE id = ?", [record_id]).fetchone()
        if found is not None and found[0] in sender.towns and sender.speaks_for(found[1]):
            return
    raise Refused(f"{sender.name} may delete only records its town holds and it made; not "
                  f"{entity.name} {record_id}.", code=NOT_YOUR_RECORD)


def badge_revocations(db: Database, sender, row: dict) -> None:
    town = db.execute("SELECT town FROM people WHERE id = ?", [row["person_id"]]).fetchone()
    if town is None or town[0] not in sender.towns:
        raise Refused(f"{sender.name} may revoke the badges of its own town's people only, not of "
                      f"{row['person_id']}.", code=NOT_YOUR_RECORD)


def hour_reviews(db: Database, sender, row: dict) -> None:
    """A review of a session's hours (records/hour_reviews.py), held to the rule of check-ins."""
    refused = _at_foreign_sessions(db, sender, [row["session_id"]])
    if refused:
        raise refused[0]
    if row.get("town") not in sender.towns:
        raise Refused(f"{sender.name} may review only its own town's sessions, not for {row.get('town')}.",
                      code=NOT_YOUR_SESSION)
    _made_by_sender(db, sender, "hour_reviews", row)


def nominations(db: Database, sender, row: dict) -> None:
    """A 最美 nomination (records/awards.py): of the sender's own town's people, in its own unit's name."""
    _of_own_person(db, sender, "nominations", row)
    if row.get("nominator_unit") not in {*sender.towns, sender.town}:   # a child hub nominates as its unit
        raise Refused(f"{sender.name} may nominate in its own unit's name only, not {row.get('nominator_unit')}.",
                      code=NOT_YOUR_RECORD)


def consents(db: Database, sender, row: dict) -> None:
    """Consent to be shown in public (records/consents.py): of the sender's own town's people."""
    _of_own_person(db, sender, "consents", row)


def _of_own_person(db: Database, sender, table: str, row: dict) -> None:
    town = db.execute("SELECT town FROM people WHERE id = ?", [row["person_id"]]).fetchone()
    if town is None or town[0] not in sender.towns or row.get("town") != town[0]:
        raise Refused(f"{sender.name} may send {table} of its own town's people only, not of "
                      f"{row['person_id']}.", code=NOT_YOUR_RECORD)
    _made_by_sender(db, sender, table, row)


def _made_by_sender(db: Database, sender, table: str, row: dict) -> None:
    """Rows a sender writes are its own: it never replaces one another sender made (same id)."""
    made = db.execute(f"SELECT origin FROM {table} WHERE id = ?", [row["id"]]).fetchone()
    if made is not None and not sender.speaks_for(made[0]):
        raise Refused(f"{sender.name} may not replace {table} {row['id']}: another made it.", code=NOT_YOUR_RECORD)


def profile_requests(db: Database, sender, row: dict) -> None:
    """A laptop's decision on an instructor's correction request (records/profile_requests.py): of a
    request the hub holds, still pending, of the sender's town, with what was asked unchanged."""
    from fieldsync.records.profile_requests import ASKED

    stored = db.execute(f"SELECT status, hlc, {', '.join(ASKED)} FROM profile_requests WHERE id = ?",
                        [row["id"]]).fetchone()
    if stored is None or stored[2 + ASKED.index("town")] not in sender.towns:
        raise Refused(f"{sender.name} may decide only the requests the hub sent its town, not {row['id']}.",
                      code=NOT_YOUR_RECORD)
    if stored[1] == row["hlc"]:
        return   # the same step sent again
    if stored[0] != "pending" or any(stored[2 + i] != row.get(name) for i, name in enumerate(ASKED)):
        raise Refused(f"{sender.name} may not decide request {row['id']} again or change what was asked: "
                      f"it is {stored[0]} at the hub.", code=NOT_YOUR_RECORD)


def filings(db: Database, sender, row: dict) -> None:
    """A 统计表 filing: only a child hub files, and only for its own unit (decision 0150)."""
    if not sender.hub or row["unit"] != sender.town:
        raise Refused(f"{sender.name} may file the 统计表 of its own unit only ({sender.town}), not of "
                      f"{row['unit']}.", code=NOT_YOUR_RECORD)


def goes_up(entity) -> bool:
    """What a hub takes from below: the kinds laptops push. A child hub's own lists for its laptops
    (forms, theme days, 最美 results, its reviews of filings) stay below, since its parent keeps its
    own: the parent acknowledges them unread (merge.py) and the child sends them as bare seqs
    (batches.py, decision 0291)."""
    return entity.pushed


MUTABLE = {"people": people, "sessions": sessions}
PUBLISHED = {"badge_revocations": badge_revocations, "hour_reviews": hour_reviews, "filings": filings,
             "nominations": nominations, "consents": consents,
             "profile_requests": profile_requests}


def mutable(db: Database, sender, entity, record_id: str, values: dict, batch: Batch) -> None:
    # A town-scoped kind without a rule of its own is owned as sessions are.
    MUTABLE.get(entity.name, sessions)(db, sender, record_id, values, batch)


def published(db: Database, sender, entity, row: dict) -> None:
    rule = PUBLISHED.get(entity.name)
    if rule is None:
        raise Refused(f"no rule lets a laptop send {entity.name}.", code=NOT_YOUR_RECORD)
    rule(db, sender, row)


# -- immutable records, a column at a time --------------------------------------------------------
def checkins(db: Database, sender, columns: dict[str, list]) -> dict[int, Refused]:
    """Rows (by index) recorded at a session the sender may not record. One query for the
    distinct sessions of the block; rows are looked at only when one is refused."""
    return _at_foreign_sessions(db, sender, columns["session_id"])


def submissions(db: Database, sender, columns: dict[str, list]) -> dict[int, Refused]:
    """As check-ins; one without a session only for a person of the sender's town."""
    refused = _at_foreign_sessions(db, sender, columns["session_id"])
    loose = {p for s, p in zip(columns["session_id"], columns["person_id"]) if not s and p}
    if loose:
        ours = {r[0] for r in db.execute("SELECT id FROM people WHERE town IN (SELECT value FROM json_each(?))"
                                         " AND id IN (SELECT value FROM json_each(?))",
                                         [json.dumps(sorted(sender.towns)), json.dumps(sorted(loose))])}
        for i, (session, person) in enumerate(zip(columns["session_id"], columns["person_id"])):
            if not session and person and person not in ours:
                refused[i] = Refused(f"{sender.name} may record answers without a session for its own "
                                     f"town's people only, not for {person}.", code=NOT_YOUR_RECORD)
    return refused


def _at_foreign_sessions(db: Database, sender, session_ids: list) -> dict[int, Refused]:
    distinct = {s for s in set(session_ids) if s}
    if not distinct:
        return {}
    foreign = {r[0] for r in db.execute(
        "SELECT j.value FROM json_each(?) j LEFT JOIN sessions s ON s.id = j.value"
        " WHERE s.town IS NULL OR s.town NOT IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(distinct)), json.dumps(sorted(sender.towns))])}
    if not foreign:
        return {}
    return {i: Refused(f"{sender.name} may record only at its own town's sessions; the hub holds no session "
                       f"{session} of {sender.town}.", code=NOT_YOUR_SESSION)
            for i, session in enumerate(session_ids) if session in foreign}


IMMUTABLE = {"checkins": checkins, "submissions": submissions}


def immutable(db: Database, sender, entity, columns: dict[str, list]) -> dict[int, Refused]:
    """The refused rows of an immutable entity's columns (a block, or one row as columns)."""
    rule = IMMUTABLE.get(entity.name)
    return rule(db, sender, columns) if rule else {}
