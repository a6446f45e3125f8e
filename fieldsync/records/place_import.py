"""`fieldsync places import`: the association's own place list, as the statistics bureau
publishes it (统计用区划代码, 名称, 城乡分类代码) or as a plain code/name/level/parent list.

Every row is checked first (code structure, unknown parent, cycle, duplicate) and
nothing is written unless all are good. What changed since the last import is
recorded, never rewritten in place: a new name keeps the code and goes into the
history; a place missing from the file (under the places the file covers), or
one with a 撤并入/merged_into code, ends on the import's date and keeps its row,
pointing at its successor (docs/decisions/0080-places-change-over-time.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlite_utils import Database

from fieldsync.errors import ValidationFailed
from fieldsync.records import places
from fieldsync.records.roster_io import HEADER_SEARCH_ROWS, RowError, read_table
from fieldsync.records.roster_io import _header_key as header_key
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now

LEVEL_NAMES = {"province": "省", "city": "市", "county": "县（区）", "town": "乡镇（街道）", "village": "村（社区）"}
LEVEL_WORDS = {
    **{level: level for level in places.LEVELS}, "community": "village",
    "省": "province", "自治区": "province", "直辖市": "province", "市": "city", "地级市": "city",
    "县": "county", "区": "county", "县级市": "county", "县（区）": "county", "县区": "county",
    "乡镇": "town", "镇": "town", "乡": "town", "街道": "town", "乡镇（街道）": "town", "乡镇街道": "town",
    "村": "village", "社区": "village", "居委会": "village", "村委会": "village", "村（社区）": "village",
}
URBAN_RURAL = {"111": "主城区", "112": "城乡结合区", "121": "镇中心区", "122": "镇乡结合区",
               "123": "特殊区域", "210": "乡中心区", "220": "村庄"}
# (first digit, last digit) of each level's segment in the 12 digits; a higher level pads with zeros.
SEGMENTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))

HEADERS = {
    "code": ("code", "代码", "统计用区划代码", "区划代码", "行政区划代码", "编码", "区划编码"),
    "name": ("name", "名称", "区划名称", "单位名称"),
    "level": ("level", "kind", "级别", "层级"),
    "parent": ("parent", "上级代码", "上级区划代码", "上级", "pcode", "parent_code", "上级编码"),
    "urban_rural": ("urban_rural", "城乡分类代码", "城乡分类", "category"),
    "merged_into": ("merged_into", "replaced_by", "撤并入", "并入", "撤并入代码", "替代代码"),
}


def find_columns(rows: list[tuple[int, list]], headers: dict[str, tuple[str, ...]],
                 required: tuple[str, ...]) -> tuple[int, dict[int, str]]:
    """The header row (one of the top rows naming every required column): its index and
    position → column key. Shared by the place and population imports."""
    aliases = {header_key(alias): key for key, names in headers.items() for alias in names}
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = {pos: aliases[header_key(c)] for pos, c in enumerate(cells) if header_key(c) in aliases}
        if set(required) <= set(mapping.values()):
            return index, mapping
    wanted = "、".join(headers[key][2 if key == "code" else 1] for key in required)
    raise ValidationFailed(_("No header row in the first %(rows)s rows; the header names: %(wanted)s.",
                             rows=HEADER_SEARCH_ROWS, wanted=wanted), code="no_header")


def cells_by_key(mapping: dict[int, str], cells: list) -> dict[str, str]:
    out = {}
    for position, key in mapping.items():
        value = cells[position] if position < len(cells) else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out[key] = "" if value is None else str(value).strip()
    return out


# -- code structure -------------------------------------------------------------------
def code_level(code: str) -> str | None:
    """The level a code's digits say it is, or None if it is not a 统计用区划代码."""
    if re.fullmatch(r"\d{6}", code):
        code += "000000"
    if not re.fullmatch(r"\d{12}", code):
        return None
    filled = [int(code[a:b]) != 0 for a, b in SEGMENTS]
    last = max((i for i, f in enumerate(filled) if f), default=None)
    if last is None or not all(filled[:last + 1]):
        return None
    level = places.LEVELS[last]
    return level if len(code) == 12 or level in ("province", "city", "county") else None


def structural_parents(code: str) -> list[str]:
    """The parent a code's digits name, as 12 digits and (county or above) as 6."""
    full = code.ljust(12, "0")
    filled = [i for i, (a, b) in enumerate(SEGMENTS) if int(full[a:b])]
    if len(filled) < 2:
        return []
    a, _ = SEGMENTS[filled[-1]]
    parent = full[:a].ljust(12, "0")
    return [parent, parent[:6]] if filled[-2] <= 2 else [parent]


def within(code: str, unit: str) -> bool:
    """Whether a code is the unit or lies under it, by its digits."""
    level = code_level(unit)
    if level is None:
        return code == unit
    digits = SEGMENTS[places.LEVELS.index(level)][1]
    return code.ljust(12, "0")[:digits] == unit.ljust(12, "0")[:digits]


# -- checking the file ------------------------------------------------------------------
@dataclass
class PlaceImport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)     # code, old name, new name
    ended: list[tuple[str, str | None]] = field(default_factory=list)     # code, successor
    moved: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int, message: str) -> None:
        self.errors.append(RowError(row, "", message))


def _row(report: PlaceImport, number: int, raw: dict) -> dict | None:
    code = raw.get("code", "").replace(" ", "")
    level = code_level(code)
    if level is None:
        report.error(number, f"代码 {code or '（空）'} 不是12位统计用区划代码")
        return None
    if raw.get("level"):
        given = LEVEL_WORDS.get(raw["level"].strip().lower())
        if given is None:
            report.error(number, f"级别 {raw['level']} 不是省、市、县（区）、乡镇（街道）、村（社区）之一")
            return None
        if given != level:
            report.error(number, f"代码 {code} 是{LEVEL_NAMES[level]}代码，与级别 {raw['level']} 不符")
            return None
    name = raw.get("name", "")
    if not name or len(name) > 50:
        report.error(number, f"代码 {code} 的名称{'为空' if not name else '超过50个字'}")
        return None
    urban_rural = raw.get("urban_rural") or None
    if urban_rural and (urban_rural not in URBAN_RURAL or level != "village"):
        report.error(number, f"城乡分类代码 {urban_rural} 不是村（社区）的统计局分类代码"
                             f"（{'、'.join(URBAN_RURAL)}）")
        return None
    return {"code": code, "name": name, "kind": level, "parent": raw.get("parent") or None,
            "parent_given": bool(raw.get("parent")),
            "urban_rural": urban_rural, "merged_into": raw.get("merged_into") or None, "row": number}


def _find_parent(row: dict, rows: dict[str, dict], known: dict[str, dict]) -> str | None:
    if row["parent"]:
        return row["parent"]
    candidates = structural_parents(row["code"])
    return next((c for c in candidates if c in rows or c in known), candidates[0] if candidates else None)


def _check_links(report: PlaceImport, rows: dict[str, dict], known: dict[str, dict], unit: str | None) -> None:
    """Parents exist, sit a level above, and form no cycle; merges name a place of the same level."""
    levels = {code: place["kind"] for code, place in known.items()} | {c: r["kind"] for c, r in rows.items()}
    parent_of = {code: place["parent"] for code, place in known.items()} | {c: r["parent"] for c, r in rows.items()}
    top = min((places.LEVELS.index(r["kind"]) for r in rows.values()), default=0)
    for code, row in rows.items():
        number, parent = row["row"], row["parent"]
        root = (code.ljust(12, "0") == unit.ljust(12, "0")) if unit else places.LEVELS.index(row["kind"]) == top
        if unit and not within(code, unit):
            report.error(number, f"代码 {code} 不在本单位（{unit}）范围内")
        elif parent not in levels:
            if row["parent_given"] or not root:
                report.error(number, f"代码 {code} 的上级 {parent or '（空）'} 不在区划表中")
            row["parent"] = None if not row["parent_given"] else parent
        elif loop := _cycle(code, parent_of):
            report.error(number, f"代码 {code} 的上级关系形成循环：{' → '.join(loop)}")
        elif places.LEVELS.index(levels[parent]) >= places.LEVELS.index(row["kind"]):
            report.error(number, f"代码 {code} 的上级 {parent} 是{LEVEL_NAMES[levels[parent]]}，"
                                 f"不能管辖{LEVEL_NAMES[row['kind']]}")
        successor = row["merged_into"]
        if successor and (successor == code or levels.get(successor) != row["kind"]):
            report.error(number, f"代码 {code} 撤并入 {successor}，但 {successor} 不是区划表中的"
                                 f"另一个{LEVEL_NAMES[row['kind']]}")


def _cycle(code: str, parent_of: dict[str, str | None]) -> list[str] | None:
    path, current = [code], parent_of.get(code)
    while current is not None:
        if current == code:
            return path + [code]
        if current in path or len(path) > len(places.LEVELS) * 4:
            return None
        path.append(current)
        current = parent_of.get(current)
    return None


def check(store: Store, content: bytes, filename: str = "") -> tuple[PlaceImport, dict[str, dict]]:
    """Read and check every row; the rows by code (empty when any row is bad)."""
    table = read_table(content, filename)
    header, mapping = find_columns(table, HEADERS, ("code", "name"))
    known = {row["code"]: row for row in store.query("SELECT * FROM places")}
    report, rows = PlaceImport(), {}
    for number, cells in table[header + 1:]:
        raw = cells_by_key(mapping, cells)
        if not any(raw.values()):
            continue
        report.rows += 1
        row = _row(report, number, raw)
        if row is None:
            continue
        if row["code"] in rows:
            report.error(number, f"代码 {row['code']} 与第{rows[row['code']]['row']}行重复")
            continue
        rows[row["code"]] = row
    for row in rows.values():
        row["parent"] = _find_parent(row, rows, known)
    _check_links(report, rows, known, places.home_unit(store.db))
    report.errors.sort(key=lambda e: e.row)
    return report, ({} if report.errors else rows)


# -- writing the changes ---------------------------------------------------------------------
def import_file(store: Store, content: bytes, filename: str = "", *, as_of: date | None = None,
                actor: str | None = None, dry_run: bool = False) -> PlaceImport:
    """Check the file, then (all rows good, not a dry run) write it with its changes as of `as_of`."""
    report, rows = check(store, content, filename)
    if report.ok and not dry_run:
        store.write(lambda db: _apply(db, report, rows, (as_of or clock.today()).isoformat(), actor))
    return report


def _missing(db: Database, rows: dict[str, dict]) -> list[str]:
    """Places that exist now under the places the file covers, but are not in the file."""
    # A merged place's villages are not in the file's scope: they live on under its successor.
    roots = [code for code, row in rows.items() if row["parent"] not in rows and not row["merged_into"]]
    gone: list[str] = []
    for root in roots:
        gone += [r[0] for r in db.execute(
            "WITH RECURSIVE under(code) AS (SELECT ? UNION ALL SELECT p.code FROM places p"
            " JOIN under u ON p.parent = u.code) SELECT code FROM places JOIN under USING (code)"
            f" WHERE {places.LIVE}", [root, places.today()]) if r[0] not in rows]
    return gone


def _apply(db: Database, report: PlaceImport, rows: dict[str, dict], as_of: str, actor: str | None) -> None:
    now, first = utc_now(), not db.execute("SELECT 1 FROM places LIMIT 1").fetchone()
    for code, row in rows.items():
        old = next(db.query("SELECT * FROM places WHERE code = ?", [code]), None)
        place = {"code": code, "name": row["name"], "kind": row["kind"], "parent": row["parent"],
                 "urban_rural": row["urban_rural"], "updated_at": now,
                 "ended_on": as_of if row["merged_into"] else None, "replaced_by": row["merged_into"]}
        if old is None:
            place["valid_from"] = None if first else as_of
            report.added.append(code)
        else:
            if old["name"] != row["name"]:
                report.renamed.append((code, old["name"], row["name"]))
                _history(db, code, "renamed", {"name": [old["name"], row["name"]], "on": [None, as_of]}, actor, now)
            if old["parent"] != row["parent"]:
                report.moved.append(code)
                _history(db, code, "moved", {"parent": [old["parent"], row["parent"]], "on": [None, as_of]},
                         actor, now)
            if old["ended_on"] and not row["merged_into"]:
                _history(db, code, "restored", {"ended_on": [old["ended_on"], None]}, actor, now)
            if old["ended_on"] and row["merged_into"]:
                place["ended_on"] = old["ended_on"]   # ended before: its date stays
        if row["merged_into"] and not (old and old["ended_on"]):
            report.ended.append((code, row["merged_into"]))
            _history(db, code, "merged", {"ended_on": [None, as_of], "replaced_by": [None, row["merged_into"]]},
                     actor, now)
        db["places"].upsert(place, pk="code")
    for code in _missing(db, rows):
        db.execute("UPDATE places SET ended_on = ?, updated_at = ? WHERE code = ?", [as_of, now, code])
        report.ended.append((code, None))
        _history(db, code, "ended", {"ended_on": [None, as_of]}, actor, now)


def _history(db: Database, code: str, action: str, changes: dict, actor: str | None, at: str) -> None:
    db["history"].insert({"entity": "places", "record_id": code, "action": action,
                          "changes": json.dumps(changes, ensure_ascii=False), "hlc": None, "actor": actor, "at": at})


def history(store: Store, code: str) -> list[dict]:
    """A place's renames, moves and ending, oldest first."""
    rows = store.query("SELECT action, changes, actor, at FROM history WHERE entity = 'places' AND record_id = ?"
                       " ORDER BY id", [code])
    return [{**row, "changes": json.loads(row["changes"])} for row in rows]
