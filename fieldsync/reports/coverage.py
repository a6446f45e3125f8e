"""Training coverage, the 专家走基层 rule: every village has at least one trained person.

A person counts where they live (their village and town), for the sessions
of one kind they came to ('in' scan) in the year; people merged into another
count once, as the person kept (docs/decisions/0031-report-definitions.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync.records import populations
from fieldsync.reports.units import IN_UNIT, Unit, descendants, successors
from fieldsync.sheets.table import Table, unit_line

COLUMNS = ("序号", "乡镇（街道）", "村（社区）", "区划代码", "人口", "培训人数", "是否覆盖")
CODE_COLUMN = 3


@dataclass
class Coverage:
    villages: list[dict]   # code, name, town, population, trained
    towns: list[dict]      # code, name, villages (the town's rows above), covered, trained

    @property
    def covered(self) -> int:
        return sum(1 for village in self.villages if village["trained"])

    @property
    def trained(self) -> int:
        """Trained people of the unit (each lives in one town, so the towns' counts add up)."""
        return sum(town["trained"] for town in self.towns)

    @property
    def ratio(self) -> float:
        return self.covered / len(self.villages) if self.villages else 0.0


def people_by_place(db: Database, unit: Unit, year: int, kind: str) -> list[dict]:
    """Distinct people of the unit at sessions of this kind in the year, per (town, village).

    Every person-year row holds at least one session with an 'in' scan, so the rows are the
    people; the place index answers alone."""
    return list(db.query(
        "SELECT town, village, COUNT(DISTINCT resolved_id) AS people FROM rollup_person_year"
        f" WHERE year = ? AND kind = ? AND {IN_UNIT.format(column='town')}"
        " GROUP BY town, village", [str(year), kind, unit.towns_json]))


def of(db: Database, unit: Unit, year: int) -> Coverage:
    trained = people_by_place(db, unit, year, "training")
    moved = successors(db, unit.as_of)   # people of a merged-away town or village count in its successor
    by_village: dict[str, int] = defaultdict(int)
    by_town: dict[str, int] = defaultdict(int)
    for row in trained:
        if row["village"]:
            by_village[moved.get(row["village"], row["village"])] += row["people"]
        by_town[moved.get(row["town"], row["town"])] += row["people"]
    rows = descendants(db, unit.code, "village", year=year)
    figures = populations.for_year(db, [v["code"] for v in rows], year)
    villages = [{"code": v["code"], "name": v["name"], "town": moved.get(v["parent"], v["parent"]),
                 "population": figures[v["code"]].population if v["code"] in figures else None,
                 "trained": by_village.get(v["code"], 0)} for v in rows]
    of_town = defaultdict(list)
    for village in villages:
        of_town[village["town"]].append(village)
    towns = [{"code": t["code"], "name": t["name"], "villages": of_town[t["code"]],
              "covered": sum(1 for v in of_town[t["code"]] if v["trained"]), "trained": by_town[t["code"]]}
             for t in descendants(db, unit.code, "town", year=year)]
    return Coverage(villages, towns)


def table(db: Database, unit: Unit, year: int) -> Table:
    coverage = of(db, unit, year)
    town_names = {town["code"]: town["name"] for town in coverage.towns}
    rows = [(number, town_names.get(v["town"], v["town"]), v["name"], v["code"], v["population"],
             v["trained"], "是" if v["trained"] else "否")
            for number, v in enumerate(coverage.villages, start=1)]
    rows.append(("合计", "", f"覆盖 {coverage.covered}/{len(coverage.villages)}", "",
                 sum(v["population"] or 0 for v in coverage.villages),
                 sum(t["trained"] for t in coverage.towns), f"{coverage.ratio:.0%}"))
    return Table(title=f"{year}年社会体育指导员培训覆盖情况表", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(unit.name), text_columns=frozenset({CODE_COLUMN}), sheet_name="培训覆盖")
