"""Every figure a hub reports, as one value two databases can be compared by: the dashboard and
each report of the registry, for every year the dashboard offers and for the hub's unit and each
unit directly under it. `fieldsync hub migrate-to` requires the PostgreSQL copy to give the very
figures the SQLite hub gave (decision 0340).

Nothing is folded or rebuilt first: both sides are read as they stand, so a faithful copy gives
equal figures even with synced check-ins still waiting to be folded into the rollups.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date

from sqlite_utils import Database

from fieldsync.reports import dashboard, registry, units

ASKED = frozenset({"year", "unit", "kind"})   # reports made from these alone (not one session or table)


def figures(db: Database) -> dict[str, object]:
    """{"<report> <unit code> <year>": its figures} for every report, unit and year."""
    home = units.top(db)
    found: dict[str, object] = {}
    for year in dashboard.years(db):
        for code in [home["code"], *(child["code"] for child in children(db, home, year))]:
            unit = units.resolve(db, code, year)
            found[f"dashboard {code} {year}"] = _read(dashboard.build, db, unit, year)
            for report in registry.REPORTS.values():
                if set(report.params) <= ASKED:
                    args = {key: value for key, value in (("year", year), ("unit", unit)) if key in report.params}
                    found[f"{report.name} {code} {year}"] = _read(_table, report.build, db, args)
    return found


def _table(build, db: Database, args: dict) -> list:
    table = build(db, **args)
    return [table.title, table.unit_line, list(table.headers), list(table.rows)]


def _read(build, *args):
    """The figures build(*args) gives, or the database error that stopped it (one line), as a figure
    that differs from any other."""
    try:
        return plain(build(*args))
    except sqlite3.Error as exc:
        return {"failed": str(exc).strip().splitlines()[0]}


def children(db: Database, home: dict, year: int) -> list[dict]:
    """The units one level under the hub's (a city's counties, a county's towns)."""
    kinds = units.REPORTING_KINDS
    if home["kind"] not in kinds or home["kind"] == kinds[-1]:
        return []
    below = kinds[kinds.index(home["kind"]) + 1]
    return [place for place in units.descendants(db, home["code"], below, year=year) if place["code"] != home["code"]]


def differences(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """One line per report that differs: its key and where it first differs (or why it failed)."""
    return [f"{key}: {where(before.get(key), after.get(key))}" for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


def where(was, now, path: str = "") -> str:
    """The first place two figures differ, as "path: was → now" (a failure as its message)."""
    for side in (now, was):
        if isinstance(side, dict) and set(side) == {"failed"}:
            return side["failed"]
    if isinstance(was, dict) and isinstance(now, dict):
        key = next(key for key in [*was, *now] if was.get(key) != now.get(key))
        return where(was.get(key), now.get(key), f"{path}.{key}")
    if isinstance(was, list) and isinstance(now, list) and len(was) == len(now):
        at = next(i for i, (one, other) in enumerate(zip(was, now)) if one != other)
        return where(was[at], now[at], f"{path}[{at}]")
    return f"{path.lstrip('.') or 'value'}: {str(was)[:80]} → {str(now)[:80]}"


def plain(value):
    """Lists, dicts and numbers that compare equal when the figures are the same: generators read,
    dataclasses as dicts, dates as text, floats to 6 places (SQLite's and PostgreSQL's arithmetic
    may differ in the last bits; a report shows far fewer)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "__next__"):
        return [plain(item) for item in value]
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, date):
        return value.isoformat()
    return value
