"""A small city whose every report figure is worked out by hand (see the numbers in the tests).

City 371000 (population 2000)
├─ county 371002 (600): town T1 371002100000 (400: V11 V12 V13), town T2 371002101000 (200: V21 V22)
└─ county 371082 (no population: the sum of its towns): town T3 371082100000 (1000: V31 V32)

People (level, home): p1 王芳 三级 T1/V11 and p8 王芳 二级 T3/V31 share a mobile: one
person registered in two towns. p4 was an instructor until cancelled.

Sessions of 2024 (credited hours): s1 training T1 (3), s2 training T3 (2), s3 volunteer T1 (2),
s4 theme T2 (2.5), s5 monitoring T2 (4), s6 volunteer T3 (3, cancelled after its check-ins),
s8 volunteer T1 online (1.5, no check-ins, hostile text); s7 training T1 in 2023. Every
session's hours are approved (decision 0170).
Scan times below are China time (UTC+8), as a trainer reads them off the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from fieldsync.parts import open_store
from fieldsync.records import (
    checkins,
    hour_reviews,
    people,
    places,
    sessions,
    theme_days,
    users,
)
from fieldsync.reports import organisations
from fieldsync.store import Store
from tests.backends import save_hub_config
from tests.support import WebClient

PASSWORD = "fieldsync-demo"
CHINA = timezone(timedelta(hours=8))
CITY, C1, C2 = "371000", "371002", "371082"
T1, T2, T3 = "371002100000", "371002101000", "371082100000"
V11, V12, V13, V21, V22, V31, V32 = (T1[:9] + "201", T1[:9] + "202", T1[:9] + "203",
                                     T2[:9] + "201", T2[:9] + "202", T3[:9] + "201", T3[:9] + "202")

PLACES = [
    {"code": CITY, "name": "威海市", "kind": "city", "parent": None, "population": 2000},
    {"code": C1, "name": "环翠区", "kind": "county", "parent": CITY, "population": 600},
    {"code": C2, "name": "荣成市", "kind": "county", "parent": CITY, "population": None},
    {"code": T1, "name": "张村镇", "kind": "town", "parent": C1, "population": 400},
    {"code": T2, "name": "羊亭镇", "kind": "town", "parent": C1, "population": 200},
    {"code": T3, "name": "石岛镇", "kind": "town", "parent": C2, "population": 1000},
    {"code": V11, "name": "梨林村", "kind": "village", "parent": T1, "population": 150},
    {"code": V12, "name": "泉埠村", "kind": "village", "parent": T1, "population": 150},
    {"code": V13, "name": "胡家村", "kind": "village", "parent": T1, "population": 100},
    {"code": V21, "name": "羊亭村", "kind": "village", "parent": T2, "population": 120},
    {"code": V22, "name": "港头村", "kind": "village", "parent": T2, "population": 80},
    {"code": V31, "name": "东山村", "kind": "village", "parent": T3, "population": 600},
    {"code": V32, "name": "西山村", "kind": "village", "parent": T3, "population": 400},
]

PEOPLE = {
    "p1": {"name": "王芳", "phone": "13800000001", "town": T1, "village": V11, "level": "level3",
           "certificate_no": "SD-3-001"},
    "p2": {"name": "李强", "phone": "13800000002", "town": T1, "village": V11},
    "p3": {"name": "张伟", "phone": "13800000003", "town": T1, "village": V12, "level": "level2",
           "certificate_no": "SD-2-003"},
    "p4": {"name": "刘洋", "phone": "13800000004", "town": T1, "village": V12, "level": "level3"},
    "p5": {"name": "陈静", "phone": "13800000005", "town": T2, "village": V21, "level": "level1"},
    "p6": {"name": "杨磊", "phone": "13800000006", "town": T2, "village": V22},
    "p7": {"name": "赵敏", "phone": "13800000007", "town": T3, "village": V31, "level": "level3"},
    "p8": {"name": "王芳", "phone": "13800000001", "town": T3, "village": V31, "level": "level2",
           "certificate_no": "SD-2-008", "specialty": "太极拳"},
    "p9": {"name": "黄娟", "phone": "13800000009", "town": T3, "village": V32},
}

# The association's sports organisations (结对子, decision 0231): kept on the hub only.
ORGANISATIONS = {"o1": {"name": "威海市门球协会", "kind": "association", "contact_name": "吴德明",
                        "contact_phone": "13963100003"},
                 "o2": {"name": "威海市太极拳协会", "kind": "association"},
                 "o3": {"name": "荣成市门球协会", "kind": "club"}}

HOSTILE_SUMMARY = '=HYPERLINK("http://evil.example","点我")'


def _session(kind, title, town, starts, hours, **more) -> dict:
    return {"kind": kind, "title": title, "town": town, "starts_at": starts, "hours": hours,
            "ends_at": starts + timedelta(hours=hours), "organizer": more.pop("organizer", "张村镇文体站"),
            "summary": more.pop("summary", f"{title}，面向各村群众。"), "mode": more.pop("mode", "offline"),
            "contact_name": more.pop("contact_name", "刘老师"),
            "contact_phone": more.pop("contact_phone", "13900000000"), **more}


SESSIONS = {
    "s1": _session("training", "张村镇社会体育指导员培训", T1, datetime(2024, 3, 10, 9), 3.0),
    "s2": _session("training", "石岛镇社会体育指导员培训", T3, datetime(2024, 4, 2, 9), 2.0,
                   organizer="石岛镇文体站"),
    "s3": _session("volunteer", "劳动节全民健身志愿服务", T1, datetime(2024, 5, 1, 8, 30), 2.0,
                   contact_phone="0631-5212345", notes="与梨林村结对"),
    "s4": _session("theme", "8月8日全民健身日主题活动", T2, datetime(2024, 8, 8, 8), 2.5,
                   organizer="羊亭镇文体站", contact_name="王老师", contact_phone="13700000000"),
    "s5": _session("monitoring", "国民体质监测进乡镇", T2, datetime(2024, 6, 10, 9), 4.0,
                   organizer="羊亭镇文体站"),
    "s6": _session("volunteer", "国庆健步走", T3, datetime(2024, 10, 1, 9), 3.0, organizer="石岛镇文体站"),
    "s7": _session("training", "2023年冬季培训", T1, datetime(2023, 11, 20, 9), 3.0),
    "s8": _session("volunteer", "国际志愿者日线上讲座", T1, datetime(2024, 12, 5, 19), 1.5, mode="online",
                   summary=HOSTILE_SUMMARY, contact_name="-王", notes="@备注"),
}

# (session, person, [(direction, "HH:MM" China time on the session's day), ...])
SCANS = [
    ("s1", "p1", [("in", "09:00"), ("out", "11:00")]),      # 2 h
    ("s1", "p2", [("in", "09:05")]),                        # no out: the credited 3 h
    ("s1", "p3", [("in", "09:00"), ("out", "13:00")]),      # 4 h, capped at 3 h
    ("s1", "p9", [("in", "09:10"), ("out", "10:10")]),      # 1 h; lives in T3
    ("s2", "p7", [("in", "09:00"), ("out", "10:30")]),      # 1.5 h
    ("s2", "p8", [("in", "09:00")]),                        # no out: 2 h
    ("s3", "p1", [("in", "08:30"), ("out", "10:00")]),      # 1.5 h
    ("s3", "p3", [("in", "08:30"), ("out", "09:00")]),      # 0.5 h
    ("s3", "p5", [("in", "08:40"), ("out", "12:00")]),      # 3 h 20, capped at 2 h
    ("s4", "p5", [("in", "08:00")]),                        # no out: 2.5 h
    ("s4", "p8", [("in", "08:00"), ("out", "09:00")]),      # 1 h
    ("s4", "p6", [("in", "08:00"), ("out", "09:00"), ("in", "09:30"), ("out", "10:30")]),  # 2.5 h
    ("s5", "p2", [("in", "09:00")]),
    ("s5", "p6", [("in", "09:00")]),
    ("s5", "p9", [("in", "09:00")]),
    ("s6", "p7", [("in", "10:00"), ("out", "11:00")]),      # session cancelled afterwards
    ("s7", "p4", [("in", "09:00")]),                        # 2023
]


def build(store: Store, towns: tuple[str, ...] | None = None) -> dict[str, str]:
    """Load the city into an empty store; returns the ids of p1..p9 and s1..s8. With `towns`, only
    the people and sessions of those towns and the scans of both (what a county hub holds)."""
    places.import_places(store, PLACES, population_year=2024)
    ids = {key: people.register(store, {"level": "none", **person}, actor="fixture")["id"]
           for key, person in PEOPLE.items() if towns is None or person["town"] in towns}
    ids.update({key: sessions.create(store, dict(data), actor="fixture")["id"]
                for key, data in SESSIONS.items() if towns is None or data["town"] in towns})
    for session_key, person_key, scans in SCANS:
        if session_key not in ids or person_key not in ids:
            continue
        day = SESSIONS[session_key]["starts_at"]
        for direction, clock in scans:
            hour, minute = map(int, clock.split(":"))
            result = checkins.check_in(store, session_id=ids[session_key], person_id=ids[person_key],
                                       direction=direction, station="fixture",
                                       scanned_at=day.replace(hour=hour, minute=minute, tzinfo=CHINA))
            assert result.recorded, (session_key, person_key, direction, result.status)
    for cancel, key in ((sessions.cancel, "s6"), (people.cancel, "p4")):
        if key in ids:
            cancel(store, ids[key], actor="fixture")
    for key in SESSIONS:   # the association reviewed the year's activities (decision 0170)
        if key in ids:
            hour_reviews.review(store, ids[key], "approve", actor="fixture")
    return ids


def build_instance(path: Path) -> dict[str, str]:
    """A hub instance folder holding the city, with accounts admin, staff and trainer."""
    save_hub_config(path)
    return fill_instance(path)


def fill_instance(path: Path) -> dict[str, str]:
    """The city and its accounts in a hub instance folder whose config is written."""
    with open_store(path / "fieldsync.db") as store:
        ids = build(store)
        theme_days.seed(store, 2024, actor="fixture")   # as `init --hub` seeds its year
        ids.update({key: organisations.save(store, data, actor="fixture")["id"] for key, data in ORGANISATIONS.items()})
        for role in ("admin", "staff", "trainer"):
            users.create(store, role, PASSWORD, role)
    return ids


def signed_in(server, role: str) -> WebClient:
    """A client of a live server built by build_instance, signed in with the account for `role`."""
    client = WebClient(server.url)
    assert client.login(role, PASSWORD).ok
    return client


ROLLUPS = ("rollup_daily", "rollup_attendance", "rollup_person_year")


def assert_rollups_equal_a_rebuild(store: Store) -> None:
    """The rollups as kept equal the rollups rebuilt from the raw rows, and the triggers stay."""
    from fieldsync.reports import rollup
    from fieldsync.store import triggers

    def snapshot():
        return {t: sorted(map(tuple, store.db.execute(f"SELECT * FROM {t}").fetchall())) for t in ROLLUPS}

    kept = snapshot()
    store.write(rollup.rebuild)
    assert snapshot() == kept
    assert {name for name, _ in triggers.names(store.db, "rollup")} >= {"rollup_checkin", "rollup_attendance_scanned"}
