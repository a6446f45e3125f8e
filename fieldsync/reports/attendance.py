"""The attendance sheet (签到表) of one session: who came, when, and the hours credited."""

from __future__ import annotations

from datetime import date

from sqlite_utils import Database

from fieldsync.errors import NotFound
from fieldsync.records.schemas import LEVELS
from fieldsync.records.validators import mask_phone
from fieldsync.reports.hours import hours
from fieldsync.reports.merges import join_people
from fieldsync.reports.table import Table, chinese_date, local_time, unit_line
from fieldsync.reports.units import names

COLUMNS = ("序号", "姓名", "乡镇（街道）", "村（社区）", "等级", "签到时间", "签退时间", "计入时长（小时）", "手机")
PHONE_COLUMN = 8


def table(db: Database, session: str) -> Table:
    """session: the session's id (the registry's parameter name)."""
    held = next(db.query("SELECT * FROM sessions WHERE id = ?", [session]), None)
    if held is None:
        raise NotFound(f"No session with id {session}.", code="session_not_found")
    place = names(db)
    # Two registrations of one person (merged later) are one line.
    attendees = db.query(
        "SELECT COALESCE(p.id, a.person_id) AS id, p.name, p.town, p.village, p.level, p.phone,"
        " MIN(a.first_in) AS first_in, MAX(a.last_out) AS last_out, MAX(a.minutes) AS minutes"
        f" FROM rollup_attendance a {join_people('a.person_id', outer=True)}"
        " WHERE a.session_id = ? GROUP BY 1 ORDER BY MIN(a.first_in), 1", [session])
    rows = [(number, a["name"] or f"（未登记 {a['id']}）", place.get(a["town"], a["town"] or ""),
             place.get(a["village"], a["village"] or ""), LEVELS.get(a["level"], a["level"] or ""),
             local_time(a["first_in"]), local_time(a["last_out"]), hours(a["minutes"]), mask_phone(a["phone"]))
            for number, a in enumerate(attendees, start=1)]
    held_on = chinese_date(date.fromisoformat(held["starts_at"][:10]))
    return Table(title=f"{held['title']} 签到表", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(held["organizer"] or place.get(held["town"], "")),
                 date_line=f"举办时间：{held_on}", text_columns=frozenset({PHONE_COLUMN}), sheet_name="签到表")
