"""What the hub dashboard shows for one unit, year and session kind, gathered in one place.

Every figure comes from the rollups or from small tables (sessions, people,
places), so the page answers in well under the 2 s target over 10M check-ins
(bench/report_bench.py, docs/performance.md).
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.records import validators
from fieldsync.reports import (
    coverage,
    hours,
    kpi,
    organisations,
    pairings,
    service,
    theme_days,
)
from fieldsync.reports.units import Unit, dated_in, descendants, resolve, sessions_in
from fieldsync.store import clock


def checkins_per_day(db: Database, unit: Unit, year: int, kind: str | None = None) -> list[dict]:
    """People checked in per day (a person counts once per session, on the day of their first scan)."""
    # CROSS JOIN: walk the year's days, then look each session up (not every session of every town);
    # its condition in WHERE, as PostgreSQL takes no ON after a CROSS JOIN.
    town, in_unit = dated_in(unit, "s.town", "s.starts_at")
    sql = ("SELECT d.day, SUM(d.people) AS people FROM rollup_daily d CROSS JOIN sessions s"
           f" WHERE s.id = d.session_id AND d.day >= ? AND d.day < ? AND {town}")
    params = [f"{year}-01-01", f"{year + 1}-01-01", *in_unit]
    if kind:
        sql += " AND s.kind = ?"
        params.append(kind)
    return list(db.query(sql + " GROUP BY d.day ORDER BY d.day", params))


def sessions_by_kind(db: Database, unit: Unit, year: int, kind: str | None = None) -> dict[str, int]:
    where, params = sessions_in(unit, year, (kind,) if kind else None)
    return {row["kind"]: row["sessions"] for row in db.query(
        f"SELECT kind, COUNT(*) AS sessions FROM sessions WHERE {where} GROUP BY kind", params)}


def years(db: Database) -> list[int]:
    """Years that have sessions, newest first, always including this one."""
    found = {validators.whole_number_or_none(row["y"]) for row in db.query(
        "SELECT DISTINCT substr(starts_at, 1, 4) AS y FROM sessions WHERE starts_at IS NOT NULL")} - {None}
    return sorted(found | {clock.today().year}, reverse=True)


def counties_and_towns(db: Database) -> list[dict]:
    """The filter menus: every county of the hub's area with its towns."""
    home = resolve(db)
    return [{**county, "towns": descendants(db, county["code"], "town")}
            for county in descendants(db, home.code, "county")]


def cities(db: Database) -> list[dict]:
    """A province hub's cities (the menus' level above the counties); none below a province."""
    return descendants(db, resolve(db).code, "city")


def build(db: Database, unit: Unit, year: int, kind: str | None = None) -> dict:
    covered = coverage.of(db, unit, year)
    return {
        "unit": unit, "year": year, "kind": kind, "years": years(db),
        "counties": counties_and_towns(db),
        "checkins_per_day": checkins_per_day(db, unit, year, kind),
        "theme_days": theme_days.per_day(db, unit, year),
        "sessions_by_kind": sessions_by_kind(db, unit, year, kind),
        "coverage": covered,
        "density": kpi.density(db, unit, year),
        "on_duty": service.rates(db, unit, year),
        "targets": kpi.yearly(db, unit, year, covered),
        "volunteering": hours.totals(db, unit, year),
        "hours_waiting": len(hours.waiting(db, unit, year)),
        "leaders": hours.leaderboard(db, unit, year, limit=10),
        "pairings": pairings.listing(db, unit, year),
        "organisations": organisations.listing(db),
    }
