"""The yearly targets and instructor density (shared/seeds/002, 浑南区 task list).

- trained: distinct people of the unit at training sessions in the year (≥ 200);
- fitness-monitored: distinct people at monitoring sessions in the year (≥ 300);
- mass fitness activities: active volunteer and theme sessions held in the unit (≥ 100);
- density: active instructors (level not 'none') per 1,000 residents (≥ 4.5).
Definitions and their reasons: docs/decisions/0031-report-definitions.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync.reports import coverage
from fieldsync.reports.schema import IS_INSTRUCTOR
from fieldsync.reports.table import Table, unit_line
from fieldsync.reports.units import (
    IN_UNIT,
    REPORTING_KINDS,
    Unit,
    descendants,
    sessions_in,
)

DENSITY_TARGET = 4.5
MASS_ACTIVITY_KINDS = ("volunteer", "theme")
COLUMNS = ("指标", "范围", "目标", "完成", "完成情况")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    target: int


YEARLY_TARGETS = (
    Target("trained", "年度培训社会体育指导员（人）", 200),
    Target("monitored", "年度国民体质监测（人）", 300),
    Target("mass_activities", "年度全民健身活动（次）", 100),
)


def yearly(db: Database, unit: Unit, year: int, covered: coverage.Coverage | None = None) -> list[dict]:
    """Progress on the yearly targets; pass the year's coverage if it is at hand (it holds the trained)."""
    covered = covered or coverage.of(db, unit, year)
    monitored = coverage.people_by_place(db, unit, year, "monitoring")
    done = {"trained": covered.trained, "monitored": sum(row["people"] for row in monitored),
            "mass_activities": mass_activities(db, unit, year)}
    return [{"key": t.key, "label": t.label, "target": t.target, "done": done[t.key],
             "progress": done[t.key] / t.target} for t in YEARLY_TARGETS]


def mass_activities(db: Database, unit: Unit, year: int) -> int:
    where, params = sessions_in(unit, year, MASS_ACTIVITY_KINDS)
    return db.execute(f"SELECT COUNT(*) FROM sessions WHERE {where}", params).fetchone()[0]


def instructors_by_town(db: Database, unit: Unit) -> dict[str, int]:
    return {row["town"]: row["instructors"] for row in db.query(
        "SELECT town, COUNT(*) AS instructors FROM people"
        f" WHERE {IS_INSTRUCTOR.format(p='people')} AND {IN_UNIT.format(column='town')}"
        " GROUP BY town", [unit.towns_json])}


def density(db: Database, unit: Unit) -> list[dict]:
    """Instructors per 1,000 residents: the unit, then its counties, then its towns."""
    counts = instructors_by_town(db, unit)
    rows = []
    for kind in REPORTING_KINDS:
        for place in descendants(db, unit.code, kind):
            towns = [place] if kind == "town" else descendants(db, place["code"], "town")
            population = place["population"] or sum(t["population"] or 0 for t in towns)
            instructors = sum(counts.get(t["code"], 0) for t in towns)
            per_1000 = round(instructors / population * 1000, 2) if population else None
            rows.append({"code": place["code"], "name": place["name"], "kind": kind,
                         "population": population, "instructors": instructors, "per_1000": per_1000,
                         "meets": per_1000 is not None and per_1000 >= DENSITY_TARGET})
    return rows


def table(db: Database, unit: Unit, year: int) -> Table:
    covered = coverage.of(db, unit, year)
    rows = [(t["label"], unit.name, t["target"], t["done"], f"{t['progress']:.0%}")
            for t in yearly(db, unit, year, covered)]
    rows.append(("行政村（社区）培训覆盖", unit.name, len(covered.villages), covered.covered,
                 f"{covered.ratio:.0%}"))
    rows += [("每千人社会体育指导员数", place["name"], DENSITY_TARGET, place["per_1000"],
              "达标" if place["meets"] else "未达标") for place in density(db, unit)]
    return Table(title=f"{year}年全民健身工作主要指标完成情况", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(unit.name), sheet_name="主要指标")
