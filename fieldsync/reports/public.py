"""What the association's public page and its 电子显示屏 show: activities, the year's figures
against targets, and the 最美 honours (decision 0241).

Nothing here names a person except `honours`, which names only the chosen who consent now
(records/consents.py), with their town and honour. Activities carry title, date, kind and
town; never who came. The figures are the KPI report's (reports/kpi.py, targets.py), the
heaviest part, so they are kept for FIGURES_SECONDS; consent and activities are read live, so
a withdrawn consent leaves the page at its next load.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from sqlite_utils import Database

from fieldsync.records import awards
from fieldsync.reports import hours, kpi, units
from fieldsync.store import clock, triggers

KINDS = ("volunteer", "theme", "training")
SHOWN = 8                 # activities per list
RECENT_DAYS = 60
FIGURES_SECONDS = 300     # anyone may load the page: the KPI queries run at most this often
_figures: dict[tuple, tuple[float, list[dict]]] = {}
_figures_lock = threading.Lock()


def activities(db: Database, unit: units.Unit) -> dict[str, list[dict]]:
    """The unit's next and latest activities: title, date, kind, town."""
    now = clock.minute()
    since = clock.minute(clock.wall() - timedelta(days=RECENT_DAYS))
    where = ("status = 'active' AND kind IN (SELECT value FROM json_each(?))"
             " AND town IN (SELECT value FROM json_each(?))")
    params = [json.dumps(KINDS), unit.towns_json]
    columns = "title, substr(starts_at, 1, 10) AS day, substr(starts_at, 12, 5) AS at, kind, town"
    upcoming = db.query(f"SELECT {columns} FROM sessions WHERE {where} AND starts_at > ?"
                        " ORDER BY starts_at LIMIT ?", [*params, now, SHOWN])
    recent = db.query(f"SELECT {columns} FROM sessions WHERE {where} AND starts_at <= ? AND starts_at >= ?"
                      " ORDER BY starts_at DESC LIMIT ?", [*params, now, since, SHOWN])
    return {"upcoming": list(upcoming), "recent": list(recent)}


def figures(db: Database, unit: units.Unit, year: int) -> list[dict]:
    """The year's figures against targets (trained, monitored, activities), then the reviewed volunteer
    hours and how many served; kept a while."""
    key = (triggers.database_name(db), unit.code, year)
    with _figures_lock:
        kept = _figures.get(key)
        if kept and time.monotonic() - kept[0] < FIGURES_SECONDS:
            return kept[1]
        rows = [{"key": row["key"], "done": row["done"], "target": row["target"],
                 "percent": min(100, round(row["progress"] * 100)) if row["progress"] is not None else None}
                for row in kpi.yearly(db, unit, year)]
        served = hours.totals(db, unit, year)
        rows += [{"key": key, "done": served[key], "target": None, "percent": None} for key in ("hours", "volunteers")]
        _figures[key] = (time.monotonic(), rows)
        return rows


def honours(db: Database, year: int) -> list[dict]:
    """The year's chosen who consent to be shown: name, town name and honour only."""
    place = units.names(db)
    return [{"name": row["name"], "town": place.get(row["town"], ""), "province": row["decision"] == "province"}
            for row in awards.honoured(db, year)]


def honours_year(db: Database, year: int) -> int:
    """The latest year, up to this one, with a chosen nominee (January still shows December's)."""
    row = db.execute("SELECT MAX(n.year) FROM nominations n JOIN award_verdicts v ON v.nomination_id = n.id"
                     " WHERE n.year <= ? AND v.decision IN ('selected', 'province')", [year]).fetchone()
    return row[0] or year
