"""The yearly targets and instructor density (shared/seeds/002, 浑南区 task list).

- trained: distinct people of the unit at training sessions in the year;
- fitness-monitored: distinct people at monitoring sessions in the year;
- mass fitness activities: active volunteer and theme sessions of the unit that have
  started (the ones still ahead are shown apart, as planned);
- density: active instructors (level not 'none') per 1,000 residents of the year;
- 上岗率: the share of those instructors who served at least once in the year (reports/service.py).
Each target says where it comes from (reports/targets.py). Definitions and their
reasons: docs/decisions/0031-report-definitions.md, 0081-targets-per-unit.md.
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.records.schemas import MASS_ACTIVITY_KINDS
from fieldsync.reports import coverage, service, targets
from fieldsync.reports.schema import IS_INSTRUCTOR
from fieldsync.reports.units import (
    IN_UNIT,
    Gazetteer,
    Unit,
    breakdown,
    populations_of,
    sessions_in,
)
from fieldsync.sheets.table import Table, unit_line
from fieldsync.store import clock

COLUMNS = ("指标", "范围", "目标", "完成", "完成情况", "目标来源")
NO_POPULATION = "无人口数据"
ON_DUTY = "社会体育指导员上岗率"
ON_DUTY_NOTE = "年内服务一次以上的指导员/在册指导员"


def yearly(db: Database, unit: Unit, year: int, covered: coverage.Coverage | None = None) -> list[dict]:
    """Progress on the yearly targets; pass the year's coverage if it is at hand (it holds the trained)."""
    covered = covered or coverage.of(db, unit, year)
    monitored = coverage.people_by_place(db, unit, year, "monitoring")
    held, planned = mass_activities(db, unit, year)
    done = {"trained": covered.trained, "monitored": sum(row["people"] for row in monitored), "activities": held}
    applied = targets.applied(db, unit.code, year)
    rows = []
    for key, value in done.items():
        target = applied[key]
        rows.append({"key": key, "label": targets.LABELS[key], "target": target.value, "done": value,
                     "progress": value / target.value if target.value else None, "source": target,
                     "planned": planned if key == "activities" else None})
    return rows


def mass_activities(db: Database, unit: Unit, year: int) -> tuple[int, int]:
    """(held, planned): the year's mass activities that have started, and those still ahead."""
    where, params = sessions_in(unit, year, MASS_ACTIVITY_KINDS)
    now = clock.minute()   # once: read twice, a minute could turn between "held" and "planned"
    held, planned = db.execute(f"SELECT COALESCE(SUM(substr(starts_at, 1, 16) <= ?), 0),"
                               f" COALESCE(SUM(substr(starts_at, 1, 16) > ?), 0) FROM sessions WHERE {where}",
                               [now, now, *params]).fetchone()
    return held, planned


def instructors_by_town(db: Database, unit: Unit) -> dict[str, int]:
    return {row["town"]: row["instructors"] for row in db.query(
        "SELECT town, COUNT(*) AS instructors FROM people"
        f" WHERE {IS_INSTRUCTOR.format(p='people')} AND {IN_UNIT.format(column='town')}"
        " GROUP BY town", [unit.towns_json])}


def density(db: Database, unit: Unit, year: int) -> list[dict]:
    """Instructors per 1,000 residents of the year: the unit, then its counties, then its towns.
    `population_year` says which year's figure it is; no figure, no rate."""
    counts = instructors_by_town(db, unit)
    rows = []
    gazetteer = Gazetteer(db)
    rows_of = breakdown(db, unit, year, gazetteer)
    codes = [place["code"] for place, _ in rows_of]
    figures = populations_of(db, codes, year, gazetteer)
    rates = targets.applied_to(db, codes, year, only=(targets.RATE,), gazetteer=gazetteer)
    for place, towns in rows_of:
        instructors = sum(counts.get(town, 0) for town in towns)
        figure = figures[place["code"]]
        per_1000 = round(instructors / figure.population * 1000, 2) if figure and figure.population else None
        target = rates[place["code"]][targets.RATE]
        rows.append({"code": place["code"], "name": place["name"], "kind": place["kind"],
                     "population": figure.population if figure else None,
                     "population_year": figure.year if figure else None,
                     "instructors": instructors, "per_1000": per_1000, "target": target.value,
                     "source": target, "meets": per_1000 is not None and per_1000 >= target.value})
    return rows


def _figure(value) -> str:
    return value if value is not None else NO_POPULATION


def table(db: Database, unit: Unit, year: int) -> Table:
    covered = coverage.of(db, unit, year)
    rows = []
    for t in yearly(db, unit, year, covered):
        progress = f"{t['progress']:.0%}" if t["progress"] is not None else ""
        rows.append((t["label"], unit.name, _figure(t["target"]), t["done"], progress, t["source"].describe()))
        if t["planned"] is not None:
            rows.append(("其中：已计划、尚未举办的活动（次）", unit.name, "", t["planned"], "", ""))
    rows.append(("行政村（社区）培训覆盖", unit.name, len(covered.villages), covered.covered,
                 f"{covered.ratio:.0%}", ""))
    for place in density(db, unit, year):
        if place["per_1000"] is None:
            done, verdict = NO_POPULATION, NO_POPULATION
        else:
            done, verdict = place["per_1000"], "达标" if place["meets"] else "未达标"
            if place["population_year"] != year:
                verdict += f"（按{place['population_year']}年人口）"
        rows.append(("每千人社会体育指导员数", place["name"], place["target"], done, verdict,
                     place["source"].describe()))

    for place in service.rates(db, unit, year):
        share = f"{place['rate']:.0%}" if place["rate"] is not None else "无在册指导员"
        rows.append((ON_DUTY, place["name"], "", f"{place['served']}/{place['instructors']}", share, ON_DUTY_NOTE))
    return Table(title=f"{year}年全民健身工作主要指标完成情况", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(unit.name), sheet_name="主要指标")
