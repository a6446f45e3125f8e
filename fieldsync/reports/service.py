"""上岗率 and the 一线社会体育指导员 list: instructors who actually serve (shared/seeds/004).

A service is one session of the year (docs/decisions/0230-who-served.md):
- attended a volunteer or theme-day activity that ended and was approved, credited more than
  nothing after corrections (the reviewed attendance of reports/hours.py), or
- led a session as its trainer (records/trainers.py): ended and active; a volunteer or
  theme-day activity only once approved, as its volunteers' hours are.
One session counts once per person, as attendee and trainer alike; ids merged into a person
count as them. Instructors are the unit's active people of a level (IS_INSTRUCTOR), counted
where they live at the end of the year, as the density of kpi.py counts them.

The 上岗率 is those with at least one service over all of them; the 一线 list those with at
least N, N set by the association (`min_services`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from sqlite_utils import Database

from fieldsync.errors import ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import hour_reviews
from fieldsync.records.pii import Sealer
from fieldsync.records.schemas import GENDERS, LEVELS
from fieldsync.records.validators import mask_phone
from fieldsync.reports import hours, s12
from fieldsync.reports.schema import IS_INSTRUCTOR
from fieldsync.reports.units import (
    IN_UNIT,
    Unit,
    breakdown,
    names,
)
from fieldsync.sheets.table import Table, filed_line, unit_line
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now

MIN_SERVICES_KEY = "frontline_min_services"   # meta: the association's N
DEFAULT_MIN_SERVICES = 3
MAX_MIN_SERVICES = 366
EXPORT_KIND = "frontline"                     # `exports` log rows of full-number lists
FRONTLINE_COLUMNS = ("序号", "姓名", "性别", "出生日期", "身份证号", "乡镇（街道）", "村（社区）", "联系电话",
                     "等级", "年度服务次数")
ID_COLUMN, PHONE_COLUMN = 4, 7

LED = ("SELECT COALESCE(pm.kept_id, s.trainer_id) AS person_id, s.id AS session_id FROM sessions s"
       " LEFT JOIN person_merges pm ON pm.merged_id = s.trainer_id"
       " WHERE s.trainer_id IS NOT NULL AND s.status = 'active' AND s.starts_at >= ? AND s.starts_at < ?"
       f" AND {hour_reviews.ENDS.format(s='s')} <= ?"
       " AND (s.kind NOT IN (SELECT value FROM json_each(?))"
       "      OR s.id IN (SELECT session_id FROM hour_verdicts WHERE action = 'approve'))")


def instructors(db: Database, unit: Unit, year: int) -> list[dict]:
    """The unit's instructors, each with `services`: their sessions of service in the year."""
    now, kinds = clock.minute(), json.dumps(hours.VOLUNTEER_KINDS)
    return list(db.query(
        f"WITH r AS MATERIALIZED ({hours.reviewed(hours.OF_YEAR)}),"
        f" served AS (SELECT resolved_id AS person_id, session_id FROM r WHERE r.minutes > 0 UNION {LED}),"
        # counted once for everyone: a count per person ran the whole union again for each (SQLite
        # makes a CTE read in a correlated subquery a co-routine), minutes per city at 10M check-ins
        " counts AS MATERIALIZED (SELECT person_id, COUNT(*) AS services FROM served GROUP BY person_id)"
        " SELECT p.id, p.name, p.gender, p.birth_year, p.phone, p.id_number_masked, p.id_number_enc,"
        " p.id_number_hash, p.town, p.village, p.level, COALESCE(counts.services, 0) AS services"
        " FROM people p LEFT JOIN counts ON counts.person_id = p.id"
        f" WHERE {IS_INSTRUCTOR.format(p='p')} AND {IN_UNIT.format(column='p.town')}"
        " ORDER BY p.town NULLS FIRST, p.name, p.id",
        [now, str(year), kinds, str(year), str(year + 1), now, kinds, unit.towns_json]))


def rates(db: Database, unit: Unit, year: int) -> list[dict]:
    """上岗率: the unit, then its counties, then its towns: instructors, those who served, the share."""
    per_town: dict[str | None, list[int]] = {}   # town: [instructors, those who served]
    for person in instructors(db, unit, year):
        counts = per_town.setdefault(person["town"], [0, 0])
        counts[0] += 1
        counts[1] += 1 if person["services"] else 0
    rows = []
    for place, towns in breakdown(db, unit, year):
        mine = sum(per_town[town][0] for town in towns if town in per_town)
        served = sum(per_town[town][1] for town in towns if town in per_town)
        rows.append({"code": place["code"], "name": place["name"], "kind": place["kind"], "instructors": mine,
                     "served": served, "rate": served / mine if mine else None})
    return rows


def min_services(db: Database) -> int:
    """N: the services in a year that make an instructor 一线 (the association's, else 3)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [MIN_SERVICES_KEY]).fetchone()
    return json.loads(row[0])["value"] if row else DEFAULT_MIN_SERVICES


def set_min_services(store: Store, value, *, actor: str | None = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_MIN_SERVICES:
        raise ValidationFailed(_("Give a whole number of services from 1 to %(most)s.", most=MAX_MIN_SERVICES),
                               fields={"min_services": [_("1 to %(most)s.", most=MAX_MIN_SERVICES)]})
    setting = json.dumps({"value": number, "set_at": utc_now(), "actor": actor})
    store.write(lambda db: db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                      [MIN_SERVICES_KEY, setting]))
    return number


def frontline(db: Database, unit: Unit, year: int) -> list[dict]:
    """一线社会体育指导员: the unit's instructors with at least N services in the year, most first."""
    least = min_services(db)
    return sorted((p for p in instructors(db, unit, year) if p["services"] >= least),
                  key=lambda p: (-p["services"], p["town"], p["name"]))


def frontline_table(db: Database, unit: Unit, year: int) -> Table:
    """The list as the registry serves it: ID numbers and phones masked."""
    return _table(db, unit, year, _masked_rows(db, frontline(db, unit, year)))


def frontline_full(store: Store, unit: Unit, year: int, *, id_files: Iterable[tuple[str, bytes]] = (),
                   actor: str | None = None) -> Table:
    """For an admin (the caller checked the role): whole phones, and whole ID numbers where this
    instance holds them sealed or the given laptop S12 files carry them (decision 0145). Logged."""
    db = store.db
    people = frontline(db, unit, year)
    numbers, _unmatched = s12.numbers_from_files(store, id_files)
    sealer = Sealer(store.path.parent)
    place = names(db)
    rows, whole_count = [], 0
    for index, person in enumerate(people, 1):
        whole = s12.whole_number(person, sealer, numbers)
        whole_count += whole is not None
        rows.append(_row(index, person, place, whole or person["id_number_masked"] or "", person["phone"] or "",
                         s12.born(person, whole)))
    store.write(lambda w: w["exports"].insert({"kind": EXPORT_KIND, "unit": unit.code, "at": utc_now(),
                                               "actor": actor, "changes_only": 0, "rows": len(rows),
                                               "full_numbers": whole_count}))
    return _table(db, unit, year, rows)


def _masked_rows(db: Database, people: list[dict]) -> list[list]:
    place = names(db)
    return [_row(index, p, place, p["id_number_masked"] or "", mask_phone(p["phone"]), s12.born(p, None))
            for index, p in enumerate(people, 1)]


def _row(index: int, person: dict, place: dict, number: str, phone: str, birth) -> list:
    return [index, person["name"], GENDERS.get(person["gender"] or "", ""), birth, number,
            place.get(person["town"], person["town"] or ""), place.get(person["village"], "") if person["village"]
            else "", phone, LEVELS.get(person["level"], person["level"]), person["services"]]


def _table(db: Database, unit: Unit, year: int, rows: list[list]) -> Table:
    return Table(title=f"{year}年一线社会体育指导员名单（年度服务不少于{min_services(db)}次）",
                 headers=FRONTLINE_COLUMNS, rows=rows, unit_line=unit_line(unit.name),
                 date_line=filed_line(date.today()), text_columns=frozenset({ID_COLUMN, PHONE_COLUMN}),
                 sheet_name="一线社会体育指导员")
