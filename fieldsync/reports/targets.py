"""Yearly targets per unit, set by the association, and where each applied target comes from.

A unit's target for a year is, figure by figure: the one set for it; else its
nearest ancestor's (up to the hub's unit), shared out by population for counts
(trained, monitored, activities: the ancestor's target × this unit's residents ÷
the ancestor's) and taken as it is for the per-1,000 rate; the hub's unit, when
nothing is set, has the 浑南 plan's figures (shared/seeds/002). Decision 0081.

A child hub (decision 0130) pulls the targets its parent set for its unit and the units under
it (reports/targets_wire.py) as rows `by_parent`; the parent's figure wins, and the child sets
only the figures its parent did not (decision 0290).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import places
from fieldsync.reports import units
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import entities, hublog

PLAN = {"per_1000": 4.5, "trained": 200, "monitored": 300, "activities": 100}
LABELS = {"per_1000": "每千人社会体育指导员数", "trained": "年度培训社会体育指导员（人）",
          "monitored": "年度国民体质监测（人）", "activities": "年度全民健身活动（次）"}
RATE = "per_1000"
LIMITS = {"per_1000": 100, "trained": 10_000_000, "monitored": 10_000_000, "activities": 1_000_000}

migrations = Migrations("fieldsync.targets")


@migrations()
def t001_targets(db: Database) -> None:
    db.execute("""
        CREATE TABLE targets (
            unit TEXT NOT NULL,
            year INTEGER NOT NULL,
            figure TEXT NOT NULL CHECK (figure IN ('per_1000', 'trained', 'monitored', 'activities')),
            value REAL NOT NULL,
            set_at TEXT NOT NULL,
            actor TEXT,
            PRIMARY KEY (unit, year, figure)
        )""")


@migrations()
def t002_targets_by_parent(db: Database) -> None:
    # 1: pulled from the parent hub (reports/targets_wire.py); this hub may not change it.
    db.execute("ALTER TABLE targets ADD COLUMN by_parent INTEGER NOT NULL DEFAULT 0")


@dataclass(frozen=True)
class Applied:
    figure: str
    value: float | None      # None: it cannot be shared out (a population is missing)
    how: str                 # set, parent (set by the parent hub), default, shared (counts), inherited (the rate),
    #                          no_population
    source_code: str         # the unit whose target this is (this one, or an ancestor)
    source_name: str
    planned: bool = False    # the source's figure is the plan's default, not one the association set

    def describe(self) -> str:
        """Where the target comes from, as the KPI report (Chinese) prints it."""
        plan = "（浑南方案默认值）" if self.planned and self.how != "default" else ""
        return {"set": "本单位设定", "parent": "上级中心设定", "default": "浑南方案默认值",
                "shared": f"由{self.source_name}按人口分解{plan}",
                "inherited": f"沿用{self.source_name}的目标{plan}",
                "no_population": f"无人口数据，无法由{self.source_name}的目标分解"}[self.how]


def set_targets(store: Store, unit: str, year: int, values: dict[str, float | None], *,
                actor: str | None = None) -> None:
    """Set (or, with None, clear) a unit's targets for a year."""
    place = places.get(store, unit)
    if place is None or place["kind"] not in units.REPORTING_KINDS:
        raise ValidationFailed(f"{unit} is not a province, city, county or town in the gazetteer.",
                               fields={"unit": ["Not a province, city, county or town."]})
    if not 1949 <= int(year) <= 2100:
        raise ValidationFailed(f"{year} is not a year.", fields={"year": ["Not a year."]})
    for figure, value in values.items():
        if figure not in PLAN:
            raise ValidationFailed(f"No target called {figure}.", fields={figure: ["Unknown target."]})
        if value is not None and not 0 <= value <= LIMITS[figure]:
            raise ValidationFailed(f"{LABELS[figure]}: {value} is out of range (0–{LIMITS[figure]}).",
                                   fields={figure: ["Out of range."]})
    now = utc_now()

    def work(db: Database) -> None:
        _refuse_parents_figures(db, unit, year, values)
        for figure, value in values.items():
            db.execute("DELETE FROM targets WHERE unit = ? AND year = ? AND figure = ?", [unit, year, figure])
            if value is not None:
                db.execute("INSERT INTO targets (unit, year, figure, value, set_at, actor) VALUES (?, ?, ?, ?, ?, ?)",
                           [unit, year, figure, value, now, actor])
        hublog.publish(db, entities.get("targets"), unit)   # to child hubs below (targets_wire.py)

    store.write(work)


def _refuse_parents_figures(db: Database, unit: str, year: int, values: dict) -> None:
    """The parent hub's figure wins: a child hub neither changes nor clears one (decision 0290)."""
    taken = [f for (f,) in db.execute("SELECT figure FROM targets WHERE unit = ? AND year = ? AND by_parent = 1"
                                      " AND figure IN (SELECT value FROM json_each(?))",
                                      [unit, year, json.dumps(sorted(values))])]
    if taken:
        raise Conflict(_("The parent hub set %(figures)s for %(unit)s in %(year)s; ask it to change them.",
                         figures="、".join(LABELS[f] for f in sorted(taken)), unit=unit, year=year),
                       code="target_set_by_parent", fields={f: [_("Set by the parent hub.")] for f in taken})


def applied(db: Database, unit: str, year: int, only: tuple[str, ...] | None = None) -> dict[str, Applied]:
    """The target of each figure (or of those in `only`) for a unit and year, with where it comes from."""
    return applied_to(db, [unit], year, only)[unit]


def applied_to(db: Database, codes: list[str], year: int, only: tuple[str, ...] | None = None,
               gazetteer: units.Gazetteer | None = None) -> dict[str, dict[str, Applied]]:
    """applied() for many units at once: the targets and names read in one statement each, and,
    given the gazetteer a report has read already, each unit's ancestors walked from it."""
    top = units.top(db)["code"]
    chains = {}
    for code in codes:
        chain = [code] + (gazetteer.ancestors(code) if gazetteer else places.ancestors(db, code))
        chains[code] = chain[:chain.index(top) + 1] if top in chain else chain
    every = json.dumps(sorted({code for chain in chains.values() for code in chain}))
    rows = list(db.query("SELECT unit, figure, value, by_parent FROM targets WHERE year = ?"
                         " AND unit IN (SELECT value FROM json_each(?))", [year, every]))
    set_here = {(row["unit"], row["figure"]): row["value"] for row in rows}
    by_parent = {(row["unit"], row["figure"]) for row in rows if row["by_parent"]}
    name = dict(db.execute("SELECT code, name FROM places WHERE code IN (SELECT value FROM json_each(?))",
                           [every]).fetchall())
    found: dict[str, dict[str, Applied]] = {}
    for unit, chain in chains.items():
        found[unit] = {}
        for figure, default in PLAN.items():
            if only is not None and figure not in only:
                continue
            source = next((code for code in chain if (code, figure) in set_here), chain[-1])
            value = set_here.get((source, figure), default)
            planned = (source, figure) not in set_here
            found[unit][figure] = _applied(db, figure, unit, source, value, planned, year, name,
                                           parent=(source, figure) in by_parent)
    return found


def _applied(db, figure, unit, source, value, planned, year, name, parent=False) -> Applied:
    def made(how, result):
        if result is not None and figure != RATE:
            result = int(result)   # stored as REAL with the rate; a count is whole
        return Applied(figure, result, how, source, name.get(source, source), planned)

    if source == unit:
        return made("default" if planned else "parent" if parent else "set", value)
    if figure == RATE:
        return made("inherited", value)
    here, there = units.population(db, unit, year), units.population(db, source, year)
    if here is None or there is None or there.population == 0:
        return made("no_population", None)
    return made("shared", round(value * here.population / there.population))
