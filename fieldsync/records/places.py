"""The 行政区划 gazetteer: city → county → town → village, with population."""

from __future__ import annotations

import json
from importlib import resources

from sqlite_utils import Database

from fieldsync.store import Store

DEMO_GAZETTEER = "gazetteer_demo.json"


def load_fixture(name: str = DEMO_GAZETTEER) -> dict:
    return json.loads(resources.files("fieldsync.data").joinpath(name).read_text("utf-8"))


def import_places(store: Store, places: list[dict]) -> int:
    def work(db: Database) -> int:
        db["places"].upsert_all(places, pk="code")
        return len(places)

    return store.write(work)


def get(store: Store, code: str | None) -> dict | None:
    return store.query_one("SELECT * FROM places WHERE code = ?", [code]) if code else None


def name_of(store: Store, code: str | None) -> str:
    place = get(store, code)
    return place["name"] if place else (code or "")


def names(store: Store) -> dict[str, str]:
    """Town and village names by code, for lists and exports."""
    return {row["code"]: row["name"] for row in store.query(
        "SELECT code, name FROM places WHERE kind IN ('town', 'village')")}


def children(store: Store, parent: str | None, kind: str | None = None) -> list[dict]:
    sql = "SELECT * FROM places WHERE parent IS ?"
    params = [parent]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return store.query(sql + " ORDER BY code", params)


def by_kind(store: Store, kind: str) -> list[dict]:
    return store.query("SELECT * FROM places WHERE kind = ? ORDER BY code", [kind])


def check_village_in_town(store: Store, town: str, village: str | None) -> None:
    from fieldsync.errors import ValidationFailed

    place = get(store, town)
    if place is None or place["kind"] != "town":
        raise ValidationFailed(f"Town {town} is not in the gazetteer.", fields={"town": ["Unknown town."]})
    if village:
        row = get(store, village)
        if row is None or row["parent"] != town:
            raise ValidationFailed(f"Village {village} is not a village of {place['name']}.",
                                   fields={"village": ["Not a village of this town."]})


def towns_under(store: Store, codes: list[str]) -> list[str]:
    """The towns under each place (a town is under itself): what an account's units cover."""
    return [row["code"] for row in store.query(
        "WITH RECURSIVE under(code) AS (SELECT value FROM json_each(?) UNION"
        "  SELECT p.code FROM places p JOIN under u ON p.parent = u.code)"
        " SELECT places.code FROM places JOIN under USING (code) WHERE places.kind = 'town'",
        [json.dumps(list(codes))])]
