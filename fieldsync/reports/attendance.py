"""The attendance sheet (签到表) of one session: who came, when, and the hours credited."""

from __future__ import annotations

import json
from datetime import date

from sqlite_utils import Database

from fieldsync.errors import NotFound
from fieldsync.records import scope
from fieldsync.records.schemas import LEVELS
from fieldsync.records.validators import mask_phone
from fieldsync.reports.hours import hours
from fieldsync.reports.merges import join_people
from fieldsync.reports.units import names
from fieldsync.sheets.table import Table, chinese_date, unit_line
from fieldsync.store import clock
from fieldsync.sync.downstream import doubles

COLUMNS = ("序号", "姓名", "乡镇（街道）", "村（社区）", "等级", "签到时间", "签退时间", "计入时长（小时）", "手机",
           "备注")
PHONE_COLUMN, NOTE_COLUMN = 8, 9


def table(db: Database, session: str) -> Table:
    """session: the session's id (the registry's parameter name)."""
    held = next(db.query("SELECT * FROM sessions WHERE id = ?", [session]), None)
    if held is None:
        raise NotFound(f"No session with id {session}.", code="session_not_found")
    scope.check(held["town"])
    place = names(db)
    doubled = doubles.of_session(db, session)
    # Two registrations of one person (merged later) are one line.
    attendees = db.query(
        "SELECT COALESCE(p.id, a.person_id) AS id, p.name, p.town, p.village, p.level, p.phone,"
        " MIN(a.first_in) AS first_in, MAX(a.last_out) AS last_out, MAX(a.minutes) AS minutes,"
        " json_group_array(a.person_id) AS scanned_as"
        f" FROM rollup_attendance a {join_people('a.person_id', outer=True)}"
        # p.id beside its COALESCE: the same groups, and PostgreSQL then takes p's columns
        " WHERE a.session_id = ? GROUP BY 1, p.id ORDER BY MIN(a.first_in) NULLS FIRST, 1", [session])
    rows = [(number, a["name"] or f"（未登记 {a['id']}）", place.get(a["town"], a["town"] or ""),
             place.get(a["village"], a["village"] or ""), LEVELS.get(a["level"], a["level"] or ""),
             clock.local_time(a["first_in"]), clock.local_time(a["last_out"]), hours(a["minutes"]), mask_phone(a["phone"]),
             _doubles_note([scan for person in json.loads(a["scanned_as"]) for scan in doubled.get(person, ())]))
            for number, a in enumerate(attendees, start=1)]
    held_on = chinese_date(date.fromisoformat(held["starts_at"][:10]))
    return Table(title=f"{held['title']} 签到表", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(held["organizer"] or place.get(held["town"], "")),
                 date_line=f"举办时间：{held_on}", text_columns=frozenset({PHONE_COLUMN}),
                 wrap_columns=frozenset({NOTE_COLUMN}), sheet_name="签到表")


def _doubles_note(scans: list[dict]) -> str | None:
    """重复签到: the laptops (and stations) that each scanned the person in, with the time."""
    if not scans:
        return None
    return "两台电脑重复签到：" + "；".join(
        f"{scan['laptop'] or '市级平台'}{'（' + scan['station'] + '）' if scan['station'] else ''}"
        f" {clock.local_time(scan['at'])[11:]}" for scan in scans)
