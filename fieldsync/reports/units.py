"""Reporting units: a town, a county (merging its towns), a city (merging its counties) or a
province (merging its cities).

Every report is asked for one unit and reads the towns under it from the
places hierarchy, so a county report is its towns' rows together and the city
report its counties' together, whatever depth the gazetteer has. A hub reports
on its own area: the unit it serves (`init --hub --unit`) and the units inside
it, never one beside or above it (DESIGN §8a). An account given units (records/scope.py)
reports on those only, its first one by default: every report, page and export that
names a unit resolves it here.

Towns change: one merged into another (撤并) ends on a day and names its
successor. Its records count under it up to that day and under its successor
from then on, worked out here at query time from the places table (a few
thousand rows), so no rollup is rewritten: dated records (sessions) by their
date, people by where they live at the end of the report's year
(docs/decisions/0080-places-change-over-time.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlite_utils import Database

from fieldsync.errors import Forbidden, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import places, populations, scope
from fieldsync.store import clock

REPORTING_KINDS = ("province", "city", "county", "town")
# A hub made without --unit (before hubs served one) reports on its city, as it always did.
FALLBACK_KINDS = ("city", "county", "town", "province")
# "town IN (...)" for any column, with the unit's towns bound as one JSON parameter.
IN_UNIT = "{column} IN (SELECT value FROM json_each(?))"


@dataclass(frozen=True)
class Span:
    town: str
    start: str | None   # first day the town's records count in the unit (None: always did)
    end: str | None     # first day they no longer do (None: still do)

    def holds(self, day: str) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    towns: tuple[str, ...]       # whose residents count here, as of `as_of`
    spans: tuple[Span, ...]      # whose dated records count here, and when
    as_of: str

    @property
    def towns_json(self) -> str:
        return json.dumps(self.towns)


def resolve(db: Database, code: str | None = None, year: int | None = None) -> Unit:
    """The unit with this code, or when no code is given the account's first unit (else the
    hub's own). People count where they live at the end of `year` (today for this year or
    none). A unit outside the hub's area is refused: the hub holds only its own area's
    records; so is one outside the account's units."""
    home = top(db)
    code = code or _default(db, home["code"])
    place = home if code == home["code"] else _place(db, code)
    if place is None:
        raise NotFound(_("No place with code %(code)s in the gazetteer.", code=code), code="unit_not_found")
    if code != home["code"] and home["code"] not in places.ancestors(db, code):
        raise Forbidden(_("%(name)s (%(code)s) is outside this hub's area, %(home)s: it reports on %(home)s and"
                          " the units in it.", name=place["name"], code=code, home=home["name"]),
                        code="unit_outside_area", fields={"unit": [_("Not in %(home)s.", home=home["name"])]})
    if place["kind"] not in REPORTING_KINDS:
        raise ValidationFailed(_("%(name)s is not a town, county, city or province; reports are made for those.",
                                 name=place["name"]), fields={"unit": [_("Not a town, county, city or province.")]})
    as_of = _as_of(year)
    spans = tuple(Gazetteer(db).spans(place["code"]))
    scope.check_unit(place["code"], {s.town for s in spans})
    return Unit(place["code"], place["name"], place["kind"], _towns_at(spans, as_of), spans, as_of)


def _as_of(year: int | None) -> str:
    """The day whose residents a report of the year counts: the year's last, or today for this year or none."""
    today = clock.today().isoformat()
    return min(f"{year}-12-31", today) if year else today


def _towns_at(spans, day: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.town for s in spans if s.holds(day)))


def breakdown(db: Database, unit: Unit, year: int, gazetteer: Gazetteer | None = None
              ) -> list[tuple[dict, tuple[str, ...]]]:
    """The unit, then its counties, then its towns (each as it stood in the year), each with the
    towns whose residents count in it, as resolve() gives them: the rows of a report per place,
    worked out from one reading of the gazetteer rather than a resolve() a place."""
    gazetteer, as_of = gazetteer or Gazetteer(db), _as_of(year)
    return [(place, unit.towns if place["code"] == unit.code else _towns_at(gazetteer.spans(place["code"]), as_of))
            for kind in REPORTING_KINDS for place in descendants(db, unit.code, kind, year=year)]


def _default(db: Database, home: str) -> str:
    """The account's first unit inside the hub's area; the hub's own unit when the account has
    none (or one that holds the whole area)."""
    inside = [code for code in scope.units() if code == home or home in places.ancestors(db, code)]
    return inside[0] if inside else home


def top(db: Database) -> dict:
    """The hub's unit (`init --hub --unit`), else the first city, county, town or province."""
    home = places.home_unit(db)
    place = _place(db, home) if home else None
    for kind in FALLBACK_KINDS:
        place = place or next(db.query(f"SELECT * FROM places WHERE kind = ? AND {places.LIVE} ORDER BY code"
                                       " LIMIT 1", [kind, clock.today().isoformat()]), None)
    if place is None:
        raise NotFound(_("The gazetteer has no province, city, county or town; import places first"
                         " (fieldsync places import)."),
                       code="unit_not_found")
    return place


class Gazetteer:
    """The towns, where each lies and what took over each that ended: read once, to find the
    spans of any number of places."""

    def __init__(self, db: Database):
        # Villages (a province has tens of thousands) lie below towns, never above one: left out.
        rows = list(db.query("SELECT code, kind, parent, valid_from, ended_on, replaced_by FROM places"
                             " WHERE kind != 'village'"))
        self.towns = {row["code"]: row for row in rows if row["kind"] == "town"}
        self.parent = parent = {row["code"]: row["parent"] for row in rows}
        self.under: dict[str, set[str]] = {}   # place → the towns under it, ended ones too (itself, if a town)
        self.fed: dict[str, set[str]] = {}     # town → the towns whose records may come to count as its
        for town in self.towns:
            seen, at = set(), town
            while at is not None and at not in seen:
                seen.add(at)
                self.under.setdefault(at, set()).add(town)
                at = parent.get(at)
            seen, at = set(), town
            while at in self.towns and at not in seen:
                seen.add(at)
                self.fed.setdefault(at, set()).add(town)
                at = self.towns[at]["replaced_by"]
        self.order = {town: k for k, town in enumerate(self.towns)}

    def ancestors(self, code: str) -> list[str]:
        """The codes above a place, nearest first, as places.ancestors() finds them."""
        found: list[str] = []
        at = self.parent.get(code)
        while at and at not in found and len(found) < 8:
            found.append(at)
            at = self.parent.get(at)
        return found

    def towns_in(self, code: str, year: int) -> list[str]:
        """The towns under a place (not itself) that existed in the year, as descendants() finds them."""
        first, after = _days(year)
        return [town for town in self.under.get(code, ()) if town != code
                and (self.towns[town]["valid_from"] or "") < after and (self.towns[town]["ended_on"] or "9999") > first]

    def spans(self, code: str) -> list[Span]:
        """When each town's records count in the place: its own life if it lies under the place,
        and from its end on, wherever its successor's records count."""
        under = self.under.get(code, set())

        def belongs(town: str, since: str | None, seen: tuple[str, ...]) -> list[tuple[str | None, str | None]]:
            row = self.towns[town]
            start = max(filter(None, (since, row["valid_from"])), default=None)
            end = row["ended_on"]
            found = [(start, end)] if town in under and (start is None or end is None or start < end) else []
            successor = row["replaced_by"]
            if end and successor in self.towns and successor not in seen:
                found += belongs(successor, max(filter(None, (since, end))), seen + (town,))
            return found

        candidates = set().union(*(self.fed[town] for town in under))   # a town under it, or one that became one
        return [Span(town, start, end) for town in sorted(candidates, key=self.order.__getitem__)
                for start, end in belongs(town, None, (town,))]


def descendants(db: Database, code: str, kind: str, *, year: int | None = None, every: bool = False) -> list[dict]:
    """Places of one kind under a place (the place itself included when it is of that kind) that
    existed in the year (or exist today; `every`: whenever)."""
    sql = ("WITH RECURSIVE under(code) AS (SELECT ? UNION ALL"
           "  SELECT p.code FROM places p JOIN under u ON p.parent = u.code)"
           " SELECT places.* FROM places JOIN under USING (code) WHERE places.kind = ?")
    params: list = [code, kind]
    if not every:
        first, after = _days(year)
        sql += " AND (valid_from IS NULL OR valid_from < ?) AND (ended_on IS NULL OR ended_on > ?)"
        params += [after, first]
    return list(db.query(sql + " ORDER BY places.code", params))


def _days(year: int | None) -> tuple[str, str]:
    """The first day of the year and of the next (today and tomorrow without a year): a place
    existed in it if it began before the second and ended after the first."""
    if year:
        return f"{year}-01-01", f"{year + 1}-01-01"
    return clock.today().isoformat(), (clock.today() + timedelta(days=1)).isoformat()


def population(db: Database, code: str, year: int) -> populations.Figure | None:
    """The place's residents for the year (or its latest earlier figure); without one, its towns'
    together if every town has one; else None: the reports then say 无人口数据."""
    return populations_of(db, [code], year)[code]


def populations_of(db: Database, codes: list[str], year: int,
                   gazetteer: Gazetteer | None = None) -> dict[str, populations.Figure | None]:
    """population() for many places, the figures read in two statements; the towns under each
    from the gazetteer a report has read already, else a query a place."""
    own = populations.for_year(db, codes, year)
    towns = {code: gazetteer.towns_in(code, year) if gazetteer else
             [t["code"] for t in descendants(db, code, "town", year=year) if t["code"] != code]
             for code in codes if code not in own}
    found = populations.for_year(db, sorted({town for under in towns.values() for town in under}), year)
    figures: dict[str, populations.Figure | None] = dict.fromkeys(codes)
    for code in codes:
        if code in own:
            figures[code] = own[code]
        elif towns[code] and all(town in found for town in towns[code]):
            figures[code] = populations.Figure(sum(found[t].population for t in towns[code]),
                                               min(found[t].year for t in towns[code]))
    return figures


def successors(db: Database, day: str) -> dict[str, str]:
    """Places ended on or before the day → the place that took them over (following chains)."""
    ended = dict(db.execute("SELECT code, replaced_by FROM places WHERE ended_on <= ? AND replaced_by IS NOT NULL",
                            [day]).fetchall())
    found = {}
    for code, successor in ended.items():
        seen = {code}
        while successor in ended and successor not in seen:
            seen.add(successor)
            successor = ended[successor]
        found[code] = successor
    return found


def where_counted(db: Database) -> Callable[[str, str], str]:
    """(town, day) → the town a record of `town` dated `day` counts in: the town itself, or from
    the day it ended, its successor (following chains), as the spans above count it."""
    towns = {code: (ended, successor) for code, ended, successor in db.execute(
        "SELECT code, ended_on, replaced_by FROM places WHERE kind = 'town'")}

    def counted(town: str, day: str) -> str:
        seen = {town}
        ended, successor = towns.get(town, (None, None))
        while ended and day >= ended and successor in towns and successor not in seen:
            town = successor
            seen.add(town)
            ended, successor = towns[town]
        return town

    return counted


def names(db: Database) -> dict[str, str]:
    """Code → name for every place (a few thousand rows at most)."""
    return {row["code"]: row["name"] for row in db.query("SELECT code, name FROM places")}


def _place(db: Database, code: str) -> dict | None:
    return next(db.query("SELECT * FROM places WHERE code = ?", [code]), None)


def dated_in(unit: Unit, town: str, day: str) -> tuple[str, list]:
    """WHERE clause and parameters: a record of `town` on `day` (columns or expressions) counts in the unit."""
    always = [s.town for s in unit.spans if s.start is None and s.end is None]
    clause, params = IN_UNIT.format(column=town), [json.dumps(always)]
    for span in unit.spans:
        if span.start is not None or span.end is not None:
            clause += f" OR ({town} = ? AND {day} >= ? AND {day} < ?)"
            params += [span.town, span.start or "", span.end or "9999"]
    return f"({clause})", params


def sessions_in(unit: Unit, year: int, kinds: tuple[str, ...] | None = None,
                alias: str = "sessions") -> tuple[str, list]:
    """WHERE clause and parameters for the active sessions held in the unit in the year."""
    # "town || ''": read the year's sessions by date and check their town, rather than every year's
    # sessions of every town (ten times the rows for a city). An expression keeps SQLite off the
    # town index, as a unary + did, and PostgreSQL reads it too (it has no unary + for text).
    town, params = dated_in(unit, f"{alias}.town || ''", f"{alias}.starts_at")
    where = f"{alias}.status = 'active' AND {alias}.starts_at >= ? AND {alias}.starts_at < ? AND {town}"
    params = [str(year), str(year + 1), *params]
    if kinds:
        where += f" AND {alias}.kind IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(kinds))
    return where, params
