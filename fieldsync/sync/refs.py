"""Person references: a pushed check-in names a person the hub holds by 8 characters of the id.

A batch used to carry each distinct person's whole id (26 characters, 10 random bytes and a
time) once; with two or three scans a person a batch, that was a third of a check-in's bytes.
A person the hub already holds now travels as the first 8 characters of the id's random part
(40 bits, ~5.3 bytes after gzip): the hub finds the id by them (the `people_tail` index) and checks its
finds against a digest of the whole ids, so a wrong or ambiguous find can never attach a scan
to another person: the batch is refused (`409 refs_unresolved`) and the laptop sends the rest
of its push with whole ids (decision 0270).

The laptop refers to a person only when the hub has it for sure: the person is in its people
table and every change it made to them was acknowledged before this batch was read. A person
pulled from the hub has no change at all.
"""

from __future__ import annotations

import base64
import hashlib
import json

from sqlite_utils import Database

from fieldsync.errors import Conflict
from fieldsync.i18n import _

TAIL_CHARS = 8                      # of the id's random part: 40 bits
TAIL_SQL = "substr(id, 11, 8)"      # the people_tail index's expression (sync/schema.py)


def tail(person_id: str) -> str:
    return person_id[10:10 + TAIL_CHARS]


def digest(ids: list[str]) -> str:
    return base64.b64encode(hashlib.sha256("\n".join(ids).encode()).digest()[:9]).decode()


# -- the laptop ----------------------------------------------------------------------------
def held_by_hub(db: Database, values: list, acked: int) -> set[str]:
    """The person ids among values that the hub holds: people of this laptop with no change after
    `acked` (the last seq the hub acknowledged when the batch was read)."""
    wanted = json.dumps([v for v in set(values) if isinstance(v, str) and len(v) == 26])
    return {row[0] for row in db.execute(
        "SELECT id FROM people WHERE id IN (SELECT value FROM json_each(?))"
        " AND id NOT IN (SELECT record_id FROM changes WHERE seq > ? AND entity = 'people')", [wanted, acked])}


def split(distinct: list, held: set[str]) -> tuple[list, list[str]]:
    """(values that travel whole, ids that travel by tail, ordered by tail). Ids sharing a tail
    here travel whole: the hub could not tell them apart."""
    by_tail: dict[str, list[str]] = {}
    for value in distinct:
        if value in held:
            by_tail.setdefault(tail(value), []).append(value)
    referred = sorted((ids[0] for ids in by_tail.values() if len(ids) == 1), key=tail)
    kept = set(referred)
    return [v for v in distinct if v not in kept], referred


# -- the hub -------------------------------------------------------------------------------
def resolve(db: Database, tails: list[str], expected: str) -> list[str]:
    """The hub's people ids for tails, in their order; refused unless each tail finds exactly one
    person and the ids found are the ones the laptop meant (their digest)."""
    found: dict[str, list[str]] = {}
    for key, person_id in db.execute(f"SELECT {TAIL_SQL}, id FROM people WHERE {TAIL_SQL} IN"
                                     " (SELECT value FROM json_each(?))", [json.dumps(tails)]):
        found.setdefault(key, []).append(person_id)
    ids = [found[t][0] if len(found.get(t, ())) == 1 else None for t in tails]
    if None in ids or digest(ids) != expected:
        raise Conflict(_("The hub cannot tell which people the batch's short references name; the "
                         "laptop sends them with whole ids."), code="refs_unresolved")
    return ids
