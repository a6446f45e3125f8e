"""Activities for the national 全民健身信息服务平台 (js365.org.cn), in the fields its 赛事活动 entry
asks for, and which ended activities are not yet marked as filed there (docs/exports.md).

The 临汾 notice asks that every activity be filed there once it ends, and counts the
filing in the performance review; the mark itself is a session field
(records/sessions.mark_js365) and syncs like the others.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.records.schemas import SESSION_KINDS
from fieldsync.reports.units import Unit, sessions_in
from fieldsync.sheets.table import Table, filed_line, unit_line
from fieldsync.store import clock

COLUMNS = ("活动名称", "开始时间", "结束时间", "省", "市", "县", "地点", "主办单位", "承办单位", "参与人数",
           "活动简介", "活动类型", "已在全民健身信息服务平台填报", "填报人")
SUMMARY_COLUMN, PLACE_COLUMN = 10, 6
# The province when the gazetteer starts below it (GB/T 2260, the code's first two digits).
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省",
    "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省",
    "35": "福建省", "36": "江西省", "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省",
    "44": "广东省", "45": "广西壮族自治区", "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省",
    "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
# An activity has ended when its end (else its start) is before now; times are China wall clock.
ENDED = "COALESCE(NULLIF(s.ends_at, ''), s.starts_at) < ?"


def _now() -> str:
    return clock.minute()


def table(db: Database, unit: Unit, year: int) -> Table:
    """Every activity held in the unit in the year, filed or not, in date order."""
    where, params = sessions_in(unit, year, alias="s")
    found = list(db.query(f"SELECT s.* FROM sessions s WHERE {where} ORDER BY s.starts_at, s.town, s.id", params))
    counts, places = _participants(db, [s["id"] for s in found]), _places(db)
    rows = [_row(s, places, counts.get(s["id"], 0)) for s in found]
    return Table(title=f"{year}年全民健身赛事活动（全民健身信息服务平台填报）", headers=COLUMNS, rows=rows,
                 unit_line=unit_line(unit.name), date_line=filed_line(clock.today()),
                 wrap_columns=frozenset({SUMMARY_COLUMN, PLACE_COLUMN}), sheet_name="赛事活动")


def unfiled(db: Database, unit: Unit, year: int, *, limit: int = 500) -> list[dict]:
    """Ended activities of the unit in the year not yet marked as filed on js365, oldest first."""
    where, params = sessions_in(unit, year, alias="s")
    return list(db.query(f"SELECT s.id, s.title, s.starts_at, s.ends_at, s.town, s.organizer FROM sessions s"
                         f" WHERE {where} AND s.js365_filed_at IS NULL AND {ENDED}"
                         " ORDER BY s.starts_at, s.id LIMIT ?", [*params, _now(), limit]))


def unfiled_count(db: Database, unit: Unit, year: int) -> int:
    where, params = sessions_in(unit, year, alias="s")
    return db.execute(f"SELECT COUNT(*) FROM sessions s WHERE {where} AND s.js365_filed_at IS NULL AND {ENDED}",
                      [*params, _now()]).fetchone()[0]


def _participants(db: Database, session_ids: list[str]) -> dict[str, int]:
    """参与人数: the people checked in at each session, two registrations merged into one counted once."""
    rows = db.execute("SELECT c.session_id, COUNT(DISTINCT COALESCE(pm.kept_id, c.person_id)) FROM checkins c"
                      " LEFT JOIN person_merges pm ON pm.merged_id = c.person_id"
                      " WHERE c.session_id IN (SELECT value FROM json_each(?)) AND c.direction = 'in'"
                      " AND c.person_id IS NOT NULL GROUP BY c.session_id", [json.dumps(session_ids)])
    return dict(rows.fetchall())


def _places(db: Database) -> dict[str, dict]:
    return {row["code"]: row for row in db.query("SELECT code, name, kind, parent FROM places")}


def _levels(places: dict[str, dict], town: str | None) -> dict[str, str]:
    """Kind → name of the town and every place above it (province from the code if absent)."""
    found, code = {}, town
    while code in places and places[code]["kind"] not in found:
        found[places[code]["kind"]] = places[code]["name"]
        code = places[code]["parent"]
    if "province" not in found and town:
        found["province"] = PROVINCES.get(town[:2], "")
    return found


def _row(session: dict, places: dict[str, dict], participants: int) -> tuple:
    levels = _levels(places, session["town"])
    village = places.get(session["village"] or "", {}).get("name")
    where = " ".join(filter(None, (levels.get("town"), village, session["venue"])))
    return (session["title"], _time(session["starts_at"]), _time(session["ends_at"]), levels.get("province", ""),
            levels.get("city", ""), levels.get("county", ""), where, session["organizer"] or "",
            session["undertaker"] or "", participants, session["summary"] or "",
            SESSION_KINDS.get(session["kind"], session["kind"]), clock.local_time(session["js365_filed_at"]),
            session["js365_filed_by"] or "")


def _time(stamp: str | None) -> str:
    """A session's wall-clock time as js365's form takes it: 2025-05-28 09:00."""
    return stamp.replace("T", " ")[:16] if stamp else ""
