"""Filing the 统计表 upward (issue 19, decision 0150): a hub's unit files its table for a year.

A filing is a snapshot: the XLSX bytes exactly as statistics_xlsx built them (title, 单位名称
（盖章） line, 填报日期), the rows as JSON for comparing versions, who filed and when. Filing
the same year again makes version n+1; versions are never changed. The filing is written to the
hub's outbox with it, so a child hub's push carries it to its parent (sync entity `filings`,
filings_wire.py), whose policy takes a filing only for the child's own unit. The parent keeps
the filings of its children in the same table, by unit, and judges them against the deadline
it sets per period (`filing_deadlines`).
"""

from __future__ import annotations

import json
from datetime import date

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.reports import statistics_xlsx, units
from fieldsync.sheets import xlsx
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change

ENTITY = "filings"
YEARS = (2000, 2100)
KEY_COLUMNS = (1, 2, 5)   # 举办单位, 活动名称, 举办时间: what names one activity row across versions

migrations = Migrations("fieldsync.filings")


@migrations()
def m001_filings(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE filings (
            id TEXT PRIMARY KEY,
            unit TEXT NOT NULL,             -- the unit that filed (a county, a city)
            period TEXT NOT NULL,           -- '2026'
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            xlsx BLOB NOT NULL,             -- the workbook as built, byte for byte
            rows TEXT NOT NULL,             -- the table's rows as JSON, for "what changed"
            filed_by TEXT,
            filed_at TEXT NOT NULL,
            hlc TEXT,
            UNIQUE (unit, period, version)
        );
        CREATE TABLE filing_deadlines (
            period TEXT PRIMARY KEY,
            due_on TEXT NOT NULL,           -- the last day a filing counts as on time
            set_by TEXT,
            set_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_filing_reviews(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE filing_reviews (
            id TEXT PRIMARY KEY,            -- 'unit:period': one decision stands per unit and period
            town TEXT NOT NULL,             -- the child unit (named town: hub_log scopes by it)
            period TEXT NOT NULL,
            version INTEGER NOT NULL,       -- the version decided on
            state TEXT NOT NULL CHECK (state IN ('accepted', 'returned', 'reopened')),
            reason TEXT,
            decided_by TEXT,
            decided_at TEXT NOT NULL,
            hlc TEXT
        );
        CREATE INDEX filing_reviews_period ON filing_reviews(period, state);
        """
    )


def period_of(year) -> str:
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValidationFailed(_("A filing is for a year between %(first)s and %(last)s.", first=YEARS[0],
                                 last=YEARS[1]), fields={"year": [_("Not a year.")]})
    return str(year)


def _cell(value):
    return value.isoformat() if isinstance(value, date) else value


def file(store: Store, year, *, actor: str | None) -> dict:
    """File this hub's 统计表 for `year` as the next version; returns the stored filing."""
    period = period_of(year)
    unit = units.resolve(store.db, None, int(period))
    table = statistics_xlsx.table(store.db, unit, int(period))
    table.rows = [list(row) for row in table.rows]
    book = b"".join(xlsx.chunks(table))
    rows = json.dumps([[_cell(c) for c in row] for row in table.rows], ensure_ascii=False)

    def work(db: Database) -> dict:
        last = db.execute("SELECT MAX(version) FROM filings WHERE unit = ? AND period = ?",
                          [unit.code, period]).fetchone()[0] or 0
        row = {"id": new_id(), "unit": unit.code, "period": period, "version": last + 1, "title": table.title,
               "xlsx": book, "rows": rows, "filed_by": actor, "filed_at": utc_now(), "hlc": store.hlc.now()}
        db["filings"].insert(row)
        from fieldsync.reports.filings_wire import wire

        record_change(db, ENTITY, row["id"], "upsert", row["hlc"], wire(row))
        return row

    return store.write(work)


def versions(db: Database, unit: str, period: str) -> list[dict]:
    """A unit's filings of a period, newest first, without the workbook."""
    return list(db.query("SELECT id, unit, period, version, title, filed_by, filed_at FROM filings"
                         " WHERE unit = ? AND period = ? ORDER BY version DESC", [unit, period]))


def get(db: Database, filing_id: str) -> dict:
    row = next(db.query("SELECT * FROM filings WHERE id = ?", [filing_id]), None)
    if row is None:
        raise NotFound(code="filing_not_found")
    return row


def own_unit(db: Database) -> dict:
    return units.top(db)


def review_of(db: Database, unit: str, period: str) -> dict | None:
    """The decision of the hub above on a unit's filing of a period (filing_reviews.py), if any."""
    return next(db.query("SELECT * FROM filing_reviews WHERE id = ?", [f"{unit}:{period}"]), None)


# -- at the parent ------------------------------------------------------------------------------
def set_deadline(store: Store, year, due_on: str, *, actor: str | None) -> str:
    period = period_of(year)
    try:
        due = date.fromisoformat(str(due_on))
    except ValueError:
        raise ValidationFailed(_("The deadline is a date, YYYY-MM-DD."),
                               fields={"due_on": [_("Not a date.")]}) from None
    store.write(lambda db: db.execute(
        "INSERT OR REPLACE INTO filing_deadlines (period, due_on, set_by, set_at) VALUES (?, ?, ?, ?)",
        [period, due.isoformat(), actor, utc_now()]))
    return due.isoformat()


def deadline(db: Database, period: str) -> str | None:
    row = db.execute("SELECT due_on FROM filing_deadlines WHERE period = ?", [period]).fetchone()
    return row[0] if row else None


def local_day(stamp: str) -> str:
    """The day (China time) a UTC stamp falls on: a deadline is a day in 单位's calendar."""
    return clock.local_day(stamp)


def status(db: Database, year) -> tuple[str | None, list[dict]]:
    """Each child unit's filing of the period: (deadline, rows of unit, name, state, latest).
    A unit filed on time when its first version came by the deadline (filing again to correct
    does not make it late); `missing` once the deadline passed with nothing, else `waiting`."""
    period = period_of(year)
    due = deadline(db, period)
    children = db.query(
        "SELECT n.town AS unit, COALESCE(p.name, n.town) AS name FROM nodes n"
        " LEFT JOIN places p ON p.code = n.town WHERE n.kind = 'hub' AND n.enrolled_at IS NOT NULL"
        " AND n.revoked_at IS NULL ORDER BY n.town")
    found = []
    for child in children:
        filed = versions(db, child["unit"], period)
        first = filed[-1]["filed_at"] if filed else None
        if first:
            state = "late" if due and local_day(first) > due else "on_time"
        else:
            state = "missing" if due and clock.today().isoformat() > due else "waiting"
        found.append({**child, "state": state, "latest": filed[0] if filed else None, "versions": filed,
                      "review": review_of(db, child["unit"], period)})
    return due, found


def changes(db: Database, older_id: str, newer_id: str) -> dict:
    """What changed between two versions of one unit's filing: activity rows added, removed and
    changed (same 举办单位, 活动名称 and 举办时间, another cell differs); subtotals left out."""
    old, new = get(db, older_id), get(db, newer_id)
    if (old["unit"], old["period"]) != (new["unit"], new["period"]):
        raise ValidationFailed(_("Compare two versions of one unit's filing for one period."),
                               fields={"against": [_("Another unit or period.")]})
    before, after = _activities(old["rows"]), _activities(new["rows"])
    return {"added": [after[k] for k in after if k not in before],
            "removed": [before[k] for k in before if k not in after],
            "changed": [(before[k], after[k]) for k in after if k in before and before[k][1:] != after[k][1:]]}


def _activities(rows: str) -> dict[tuple, list]:
    return {tuple(row[i] for i in KEY_COLUMNS): row for row in json.loads(rows) if row and row[0] != ""}
