"""Duplicate registrations (same ID number, or same name and phone; often in two towns) and merging them.

Check-ins are facts and never change: a merge writes person_merges
(merged → kept) and every report reads person ids through it, so the kept
person answers for the check-ins of both (docs/decisions/0033-merge-by-link.md).
The duplicate is cancelled (注销) through the ordinary record path, so the
towns learn of it at their next sync.
"""

from __future__ import annotations

from itertools import groupby

from sqlite_utils import Database

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import mutable, people
from fieldsync.store import Store
from fieldsync.store.clock import utc_now

# Filled on the kept person when empty there and known on the duplicate.
FILLED_ON_MERGE = ("gender", "birth_year", "phone", "specialty")


def join_people(column: str, *, outer: bool = False) -> str:
    """SQL that joins `p`, the person a stored person id stands for now (after merges).

    outer keeps rows whose person the hub does not know yet (p.* NULL).
    """
    return (f"LEFT JOIN person_merges pm ON pm.merged_id = {column}"
            f" {'LEFT ' if outer else ''}JOIN people p ON p.id = COALESCE(pm.kept_id, {column})")


def ids_of(db: Database, person_id: str) -> list[str]:
    """The person's own id and every id merged into it."""
    return [person_id] + [row["merged_id"] for row in db.query(
        "SELECT merged_id FROM person_merges WHERE kept_id = ? ORDER BY merged_at", [person_id])]


def kept_of(db: Database, person_id: str) -> str | None:
    row = next(db.query("SELECT kept_id FROM person_merges WHERE merged_id = ?", [person_id]), None)
    return row["kept_id"] if row else None


# What the duplicates page compares side by side; origin_name: the laptop that registered the person.
MEMBER_COLUMNS = ("SELECT p.id, p.name, p.phone, p.birth_year, p.id_number_hash, p.id_number_masked, p.town,"
                  " p.village, p.level, p.certificate_no, p.registered_at, p.updated_at, p.origin,"
                  " (SELECT n.name FROM node_origins o JOIN nodes n ON n.id = o.node_id"
                  "  WHERE o.origin = p.origin) AS origin_name,"
                  " (SELECT COUNT(DISTINCT session_id) FROM checkins c WHERE c.person_id = p.id) AS sessions"
                  " FROM people p WHERE p.status = 'active'")


# The fields the duplicates page sets side by side; those that differ within a group are marked.
COMPARED = ("name", "id_number_masked", "phone", "birth_year", "town", "village", "level", "certificate_no",
            "registered_at", "updated_at", "origin", "sessions")


def duplicates(db: Database) -> list[dict]:
    """Groups of active people who look like one person, for review and merge: the same ID number
    (its keyed hash, alike in every town since decision 0085) first; then, a weaker match, the same
    name and mobile with no birth year that differs. Each group says which match it is."""
    by_id = db.query(MEMBER_COLUMNS + " AND p.id_number_hash IN (SELECT id_number_hash FROM people"
                     " WHERE status = 'active' AND id_number_hash IS NOT NULL GROUP BY id_number_hash"
                     " HAVING COUNT(*) > 1) ORDER BY p.id_number_hash, p.registered_at, p.id")
    strong = [{"match": "id_number", "name": members[0]["name"], "phone": members[0]["phone"],
               "people": members}
              for members in (list(m) for _, m in groupby(by_id, key=lambda r: r["id_number_hash"]))]
    seen = [{p["id"] for p in group["people"]} for group in strong]
    # Shared mobiles first, from the phone index alone; names are compared among those few.
    by_phone = db.query(MEMBER_COLUMNS + " AND p.phone IN (SELECT phone FROM people WHERE phone IS NOT NULL"
                        " AND phone != '' GROUP BY phone HAVING COUNT(*) > 1)"
                        " ORDER BY p.name, p.phone, p.registered_at, p.id")
    weak = []
    for (name, phone), members in groupby(by_phone, key=lambda r: (r["name"], r["phone"])):
        for group in _by_birth_year(list(members)):
            if len(group) > 1 and not any({p["id"] for p in group} <= ids for ids in seen):
                weak.append({"match": "name_phone", "name": name, "phone": phone, "people": group})
    for group in strong + weak:
        group["differs"] = [name for name in COMPARED if len({p[name] for p in group["people"]}) > 1]
    return strong + weak


def _by_birth_year(members: list[dict]) -> list[list[dict]]:
    """Split people of one name and mobile by birth year; one without a year may be any of them."""
    years = sorted({p["birth_year"] for p in members if p["birth_year"]})
    if len(years) <= 1:
        return [members]
    return [[p for p in members if p["birth_year"] in (year, None)] for year in years]


def merge(store: Store, kept_id: str, merged_id: str, *, actor: str | None = None) -> dict:
    """Merge the duplicate into the kept person; returns the kept person as stored."""
    if kept_id == merged_id:
        raise ValidationFailed(_("Choose two different people to merge."),
                               fields={"merged": [_("Same as the person kept.")]})
    kept, merged = people.get(store, kept_id), people.get(store, merged_id)

    def work(db: Database) -> dict:
        _refuse(db, kept, merged)
        db.execute("INSERT INTO person_merges (merged_id, kept_id, merged_at, actor) VALUES (?, ?, ?, ?)",
                   [merged_id, kept_id, utc_now(), actor])
        # Whoever was merged into the duplicate now belongs to the kept person: one hop, always.
        db.execute("UPDATE person_merges SET kept_id = ? WHERE kept_id = ?", [kept_id, merged_id])
        mutable.save_local(db, store.hlc, people.TABLE, merged_id, {"status": "cancelled"},
                           actor=actor, action="merged_into")
        return mutable.save_local(db, store.hlc, people.TABLE, kept_id, _filled(kept, merged),
                                  actor=actor, action="merge")

    return store.write(work)


def _refuse(db: Database, kept: dict, merged: dict) -> None:
    if kept_of(db, merged["id"]):
        raise Conflict(_("%(name)s (%(id)s) was already merged.", name=merged["name"], id=merged["id"]),
                       code="already_merged")
    into = kept_of(db, kept["id"])
    if into:
        raise Conflict(_("%(name)s (%(id)s) was itself merged into %(into)s; keep that one.", name=kept["name"],
                         id=kept["id"], into=into),
                       code="already_merged")
    if kept["status"] != "active":
        raise Conflict(_("%(name)s is cancelled; keep an active registration.", name=kept["name"]),
                       code="kept_cancelled")


def _filled(kept: dict, merged: dict) -> dict:
    """What the kept record takes from the duplicate: empty fields, and a higher level."""
    fields = {name: merged[name] for name in FILLED_ON_MERGE
              if kept.get(name) in (None, "") and merged.get(name) not in (None, "")}
    if people.LEVEL_RANK.get(merged["level"], 0) > people.LEVEL_RANK.get(kept["level"], 0):
        fields.update(level=merged["level"], certificate_no=merged["certificate_no"])
    return fields
