"""Reporting units: a town, a county (merging its towns) or the city (merging its counties).

Every report is asked for one unit and reads the towns under it from the
places hierarchy, so a county report is its towns' rows together and the city
report its counties' together, whatever depth the gazetteer has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync.errors import NotFound, ValidationFailed

REPORTING_KINDS = ("city", "county", "town")
# "town IN (...)" for any column, with the unit's towns bound as one JSON parameter.
IN_UNIT = "{column} IN (SELECT value FROM json_each(?))"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    population: int | None
    towns: tuple[str, ...]

    @property
    def towns_json(self) -> str:
        return json.dumps(self.towns)


def resolve(db: Database, code: str | None = None) -> Unit:
    """The unit with this code, or the city when no code is given."""
    if code:
        place = _place(db, code)
        if place is None:
            raise NotFound(f"No place with code {code} in the gazetteer.", code="unit_not_found")
    else:
        place = next(db.query("SELECT * FROM places WHERE kind = 'city' ORDER BY code LIMIT 1"), None)
        if place is None:
            raise NotFound("The gazetteer has no city; import places first.", code="unit_not_found")
    if place["kind"] not in REPORTING_KINDS:
        raise ValidationFailed(f"{place['name']} is a {place['kind']}; reports are made for a town, "
                               "a county or the city.", fields={"unit": ["Not a town, county or city."]})
    towns = tuple(row["code"] for row in descendants(db, place["code"], "town"))
    return Unit(place["code"], place["name"], place["kind"], place["population"], towns)


def descendants(db: Database, code: str, kind: str) -> list[dict]:
    """Places of one kind under a place (the place itself included when it is of that kind)."""
    return list(db.query(
        "WITH RECURSIVE under(code) AS (SELECT ? UNION ALL"
        "  SELECT p.code FROM places p JOIN under u ON p.parent = u.code)"
        " SELECT places.* FROM places JOIN under USING (code) WHERE places.kind = ?"
        " ORDER BY places.code", [code, kind]))


def names(db: Database) -> dict[str, str]:
    """Code → name for every place (a few thousand rows at most)."""
    return {row["code"]: row["name"] for row in db.query("SELECT code, name FROM places")}


def _place(db: Database, code: str) -> dict | None:
    return next(db.query("SELECT * FROM places WHERE code = ?", [code]), None)


def sessions_in(unit: Unit, year: int, kinds: tuple[str, ...] | None = None,
                alias: str = "sessions") -> tuple[str, list]:
    """WHERE clause and parameters for the active sessions held in the unit in the year."""
    # "+town": read the year's sessions by date and check their town, rather than every year's
    # sessions of every town (ten times the rows for a city).
    where = (f"{alias}.status = 'active' AND {alias}.starts_at >= ? AND {alias}.starts_at < ?"
             f" AND {IN_UNIT.format(column='+' + alias + '.town')}")
    params = [str(year), str(year + 1), unit.towns_json]
    if kinds:
        where += f" AND {alias}.kind IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(kinds))
    return where, params
