"""Level promotions (三级 → 二级 → 一级 → 国家级), each with its certificate number.

A promotion is a modification recorded as action "promote" in the person's
history, and it syncs to the town like any other change.
"""

from __future__ import annotations

from fieldsync.errors import Conflict
from fieldsync.records import people
from fieldsync.records.schemas import LEVELS
from fieldsync.store import Store

LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


def promote(store: Store, person_id: str, level: str, certificate_no: str, *,
            actor: str | None = None) -> dict:
    person = people.get(store, person_id)
    if person["status"] != "active":
        raise Conflict(f"{person['name']} is cancelled; restore the registration first.",
                       code="person_cancelled")
    if LEVEL_RANK[level] <= LEVEL_RANK.get(person["level"], 0):
        raise Conflict(f"{person['name']} is already {LEVELS.get(person['level'], person['level'])};"
                       f" {LEVELS[level]} is no promotion. Use modify to correct a level.",
                       code="not_a_promotion")
    return people.modify(store, person_id, {"level": level, "certificate_no": certificate_no}, actor=actor)
