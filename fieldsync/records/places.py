"""The 行政区划 gazetteer: province → city → county → town → village, as it changes over time.

Codes are text (12-digit 统计用区划代码; 6-digit GB/T 2260 codes for a county or
above are accepted too). A place that was merged away or dropped keeps its row,
with the day it ended and what replaced it, so older records still report under
the place they were recorded in (records/place_import.py writes those changes).
Populations are kept per place and year in place_populations.
"""

from __future__ import annotations

import json
from importlib import resources

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.i18n import _
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now

DEMO_GAZETTEER = "gazetteer_demo.json"
LEVELS = ("province", "city", "county", "town", "village")
HOME_UNIT_KEY = "home_unit"   # meta: the unit a hub serves (`init --hub --unit`)

migrations = Migrations("fieldsync.places")


@migrations()
def p001_history_and_populations(db: Database) -> None:
    for column in ("urban_rural", "valid_from", "ended_on", "replaced_by", "updated_at"):
        db.execute(f"ALTER TABLE places ADD COLUMN {column} TEXT")
    db.executescript("""
        CREATE TABLE place_populations (
            code TEXT NOT NULL,
            year INTEGER NOT NULL,
            population INTEGER NOT NULL CHECK (population >= 0),
            updated_at TEXT,
            actor TEXT,
            PRIMARY KEY (code, year)
        );
        -- Figures held before populations were dated: kept as this year's, which is when they were read.
        INSERT INTO place_populations (code, year, population)
            SELECT code, CAST(strftime('%Y', 'now') AS INTEGER), population FROM places
            WHERE population IS NOT NULL;
        ALTER TABLE places DROP COLUMN population;
    """)


def load_fixture(name: str = DEMO_GAZETTEER) -> dict:
    return json.loads(resources.files("fieldsync.data").joinpath(name).read_text("utf-8"))


def load_demo(store: Store) -> int:
    """The demo 威海 gazetteer with its (synthetic) populations, for `fieldsync demo` and tests."""
    fixture = load_fixture()
    return import_places(store, fixture["places"], population_year=fixture["population_year"])


def import_places(store: Store, rows: list[dict], *, population_year: int | None = None) -> int:
    """Write trusted place rows as they are (fixtures); a row's `population` is kept for
    population_year. Files from users go through records/place_import.py instead."""
    now = utc_now()
    fields = ("code", "name", "kind", "parent", "urban_rural", "valid_from", "ended_on", "replaced_by")
    places = [{**{k: row.get(k) for k in fields}, "updated_at": now} for row in rows]
    figures = [{"code": row["code"], "year": population_year, "population": row["population"], "updated_at": now}
               for row in rows if row.get("population") is not None and population_year]

    def work(db: Database) -> int:
        db["places"].upsert_all(places, pk="code")
        if figures:
            db["place_populations"].upsert_all(figures, pk=("code", "year"))
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
    """The places under a parent that exist today (merged-away ones are history)."""
    sql = f"SELECT * FROM places WHERE parent IS ? AND {LIVE}"
    params = [parent, today()]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return store.query(sql + " ORDER BY code", params)


def by_kind(store: Store, kind: str) -> list[dict]:
    return store.query(f"SELECT * FROM places WHERE kind = ? AND {LIVE} ORDER BY code", [kind, today()])


# A place row that exists on the day bound to the parameter.
LIVE = "(ended_on IS NULL OR ended_on > ?)"


def today() -> str:
    return clock.today().isoformat()


def ancestors(db: Database, code: str) -> list[str]:
    """The codes above a place, nearest first (its county, city, province)."""
    found: list[str] = []
    for (parent,) in db.execute(   # one statement, not one a level (a round trip each on PostgreSQL)
            "WITH RECURSIVE up(code, depth) AS (SELECT parent, 1 FROM places WHERE code = ?"
            " UNION ALL SELECT p.parent, up.depth + 1 FROM places p JOIN up ON p.code = up.code"
            " WHERE up.depth < 8) SELECT code FROM up ORDER BY depth", [code]).fetchall():
        if not parent or parent in found:   # the top, or a loop in bad data
            break
        found.append(parent)
    return found


def area(db: Database, unit: str) -> list[str]:
    """A unit and every county and town under it, villages left out (a child hub's pull reads
    the hub log under each of these: villages are logged under their town)."""
    return [r[0] for r in db.execute(
        "WITH RECURSIVE under(code) AS (SELECT ? UNION SELECT p.code FROM places p JOIN under u"
        " ON p.parent = u.code WHERE p.kind != 'village') SELECT code FROM under", [unit])]


def sync_scope(db: Database, code: str) -> str:
    """Which laptops a place goes to: a town and its villages to that town's, a county or
    city to the laptops of every town under it (sync/hublog.py reads the ancestors)."""
    row = db.execute("SELECT kind, parent FROM places WHERE code = ?", [code]).fetchone()
    if row is None:
        return code
    return row[1] if row[0] == "village" and row[1] else code


def for_laptop(db: Database, town: str) -> list[dict]:
    """What a laptop of the town holds of the gazetteer: the places above it, the town and its
    villages (ended ones too: older records name them), parents first."""
    codes = list(reversed(ancestors(db, town))) + [town]
    rows = [next(db.query("SELECT * FROM places WHERE code = ?", [code]), None) for code in codes]
    rows += list(db.query("SELECT * FROM places WHERE parent = ? ORDER BY code", [town]))
    return [row for row in rows if row]


def home_unit(db: Database) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [HOME_UNIT_KEY]).fetchone()
    return row[0] if row else None


def set_home_unit(store: Store, code: str) -> None:
    store.write(lambda db: db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                      [HOME_UNIT_KEY, code]))


def check_village_in_town(store: Store, town: str, village: str | None) -> None:
    from fieldsync.errors import ValidationFailed

    place = get(store, town)
    if place is None and not store.query_one("SELECT 1 FROM places LIMIT 1"):
        raise ValidationFailed(_("This laptop has no place list yet: enroll it with the hub and sync "
                                 "(fieldsync enroll, fieldsync sync); the hub sends its town's places."),
                               code="no_places", fields={"town": [_("No place list yet.")]})
    if place is None or place["kind"] != "town":
        raise ValidationFailed(_("Town %(code)s is not in the gazetteer.", code=town),
                               fields={"town": [_("Unknown town.")]})
    if village:
        row = get(store, village)
        if row is None or row["parent"] != town:
            raise ValidationFailed(_("Village %(code)s is not a village of %(town)s.", code=village, town=place["name"]),
                                   fields={"village": [_("Not a village of this town.")]})


def towns_under(store: Store, codes: list[str]) -> list[str]:
    """The towns under each place (a town is under itself): what an account's units cover."""
    return [row["code"] for row in store.query(
        "WITH RECURSIVE under(code) AS (SELECT value FROM json_each(?) UNION"
        "  SELECT p.code FROM places p JOIN under u ON p.parent = u.code)"
        " SELECT places.code FROM places JOIN under USING (code) WHERE places.kind = 'town'",
        [json.dumps(list(codes))])]
