"""Residents per place and year: what instructors-per-1,000 and shared-out targets divide by.

A figure belongs to a year. A report for a year uses that year's figure, else the
latest earlier one (and says which year it is); a place without any has none,
and the report says so (无人口数据) rather than dividing by a guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlite_utils import Database

from fieldsync.errors import NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records.place_import import cells_by_key, find_columns
from fieldsync.records.roster_io import RowError, read_table
from fieldsync.store import Store
from fieldsync.store.clock import utc_now

HEADERS = {
    "code": ("code", "代码", "统计用区划代码", "区划代码", "行政区划代码"),
    "year": ("year", "年份", "年度"),
    "population": ("population", "人口", "常住人口", "户籍人口", "人口数"),
}
MAX_POPULATION = 50_000_000
YEARS = (1949, 2100)


@dataclass(frozen=True)
class Figure:
    population: int
    year: int           # the year the figure is for (maybe earlier than the one asked for)


def for_year(db: Database, codes: list[str], year: int) -> dict[str, Figure]:
    """Each place's figure for the year, or its latest earlier one; places without any are left out."""
    return {code: Figure(population, found) for code, found, population in db.execute(
        "SELECT p.code, p.year, p.population FROM place_populations p"
        " WHERE p.code IN (SELECT value FROM json_each(?)) AND p.year = (SELECT MAX(q.year)"
        " FROM place_populations q WHERE q.code = p.code AND q.year <= ?)", [json.dumps(codes), year])}


def listing(store: Store, code: str) -> list[dict]:
    """A place and the places right under it, with every year's figure (the hub's population page)."""
    rows = store.query("SELECT code, name, kind, ended_on FROM places WHERE code = ? OR parent = ?"
                       " ORDER BY code != ?, code", [code, code, code])
    if not rows:
        raise NotFound(_("No place with code %(code)s.", code=code), code="place_not_found")
    figures: dict[str, dict[int, int]] = {}
    for row in store.query("SELECT code, year, population FROM place_populations WHERE code IN"
                           " (SELECT value FROM json_each(?))", [json.dumps([r["code"] for r in rows])]):
        figures.setdefault(row["code"], {})[row["year"]] = row["population"]
    return [{**row, "figures": figures.get(row["code"], {})} for row in rows]


def set_figures(store: Store, figures: list[tuple[str, int, int | None]], *, actor: str | None = None) -> int:
    """Write (code, year, population) figures; a population of None removes that year's figure."""
    now = utc_now()

    def work(db: Database) -> int:
        for code, year, population in figures:
            if population is None:
                db.execute("DELETE FROM place_populations WHERE code = ? AND year = ?", [code, year])
            else:
                db.execute("INSERT OR REPLACE INTO place_populations (code, year, population, updated_at, actor)"
                           " VALUES (?, ?, ?, ?, ?)", [code, year, population, now, actor])
        return len(figures)

    return store.write(work)


def check_figure(db: Database, code: str, year, population) -> tuple[str, int, int]:
    """A figure as typed, checked: raises ValueError with the reason in Chinese."""
    code = str(code or "").strip()
    if not db.execute("SELECT 1 FROM places WHERE code = ?", [code]).fetchone():
        raise ValueError(_("Code %(code)s is not in the gazetteer", code=code or _("(empty)")))
    year_text, people_text = str(year or "").strip().removesuffix("年"), re.sub(r"[,，\s]", "", str(population or ""))
    if not year_text.isdigit() or not YEARS[0] <= int(year_text) <= YEARS[1]:
        raise ValueError(_("Year %(year)s is not a year from %(first)s to %(last)s", year=year or _("(empty)"),
                            first=YEARS[0], last=YEARS[1]))
    if not people_text.isdigit() or int(people_text) > MAX_POPULATION:
        raise ValueError(_("Population %(population)s is not a whole number from 0 to %(max)s",
                            population=population or _("(empty)"), max=MAX_POPULATION))
    return code, int(year_text), int(people_text)


@dataclass
class PopulationImport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_file(store: Store, content: bytes, filename: str = "", *, actor: str | None = None,
                dry_run: bool = False) -> PopulationImport:
    """`fieldsync places population FILE`: code, year, population; all rows or none."""
    table = read_table(content, filename)
    header, mapping = find_columns(table, HEADERS, ("code", "year", "population"))
    report, figures, seen = PopulationImport(), [], {}
    for number, cells in table[header + 1:]:
        raw = cells_by_key(mapping, cells)
        if not any(raw.values()):
            continue
        report.rows += 1
        try:
            figure = check_figure(store.db, raw["code"], raw["year"], raw["population"])
        except ValueError as exc:
            report.errors.append(RowError(number, "", str(exc)))
            continue
        if figure[:2] in seen:
            report.errors.append(RowError(number, "", f"代码 {figure[0]} 的{figure[1]}年人口与第{seen[figure[:2]]}行重复"))
            continue
        seen[figure[:2]] = number
        figures.append(figure)
    if report.ok and not dry_run:
        set_figures(store, figures, actor=actor)
    return report


def set_one(store: Store, code: str, year, population, *, actor: str | None = None) -> None:
    """The hub page's edit of one figure (an empty population removes it)."""
    removing = str(population or "").strip() == ""
    try:
        code, year, figure = check_figure(store.db, code, year, 0 if removing else population)
    except ValueError as exc:
        raise ValidationFailed(str(exc), fields={"population": [str(exc)]}) from None
    set_figures(store, [(code, year, None if removing else figure)], actor=actor)
