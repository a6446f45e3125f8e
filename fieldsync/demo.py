"""Demo data: the 威海市 gazetteer, one town's roster and sessions, some check-ins, three accounts.

Deterministic (seeded), so screenshots and docs stay true from run to run.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from ulid import ULID

from fieldsync.forms import demo as form_demo
from fieldsync.records import checkins, people, places, sessions, theme_days, users
from fieldsync.records.schemas import GROUPS_SERVED, VENUE_TYPES
from fieldsync.records.validators import ID_CHECK, ID_WEIGHTS, mask_id_number
from fieldsync.store import Store, clock, new_id

DEMO_TOWN = "371002100000"  # 环翠区张村镇
ACCOUNTS = (("admin", "admin", "管理员"), ("staff", "staff", "镇文体站"), ("trainer", "trainer", "培训老师"))
DEMO_PASSWORD = "fieldsync-demo"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志强海燕红梅春梅晓东金凤淑珍"
SPECIALTIES = ["广场舞", "太极拳", "健身气功", "乒乓球", "篮球", "羽毛球", "健步走", "门球", "八段锦", "柔力球"]
SEED, PEOPLE_PER_VILLAGE = 2025, 6   # the demo town's laptop, as `demo` and `demo --hub` both make it
DEMO_FORMS = {"training": "training_assessment", "monitoring": "fitness_monitoring"}  # filled after check-in


def id_number(rng: random.Random, county: str, born: date, male: bool) -> str:
    seq = rng.randrange(0, 999)
    seq += (seq % 2 == 0) if male else (seq % 2 == 1)
    body = f"{county}{born:%Y%m%d}{seq % 1000:03d}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


def demo_person(rng: random.Random, town: str, village: str) -> dict:
    male = rng.random() < 0.45
    born = date(rng.randint(1955, 2002), rng.randint(1, 12), rng.randint(1, 28))
    level = rng.choices(["none", "level3", "level2", "level1", "national"], [30, 45, 15, 8, 2])[0]
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
        "gender": "male" if male else "female", "birth_year": born.year,
        "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
        "id_number": id_number(rng, town[:6], born, male),
        "town": town, "village": village, "level": level,
        "specialty": rng.choice(SPECIALTIES),
        "certificate_no": f"SD{born.year % 100:02d}{rng.randrange(10**6):06d}" if level != "none" else None,
    }


def places_and_accounts(store: Store) -> None:
    places.load_demo(store)
    for username, role, display in ACCOUNTS:
        if not store.query_one("SELECT 1 FROM users WHERE username = ?", [username]):
            users.create(store, username, DEMO_PASSWORD, role, display)


class DemoIds:
    """Ids that come out the same in every run for a seed and a day.

    The hub's demo holds the demo town's records as its laptop pushed them, and the town's
    demo is that laptop: both make the same records under the same ids, so a sync or a
    bundle between them finds each person, session and check-in already there, once.
    Time-ordered like every ULID: they count up from the day's midnight."""

    def __init__(self, seed: int, day: date):
        self._random = random.Random(f"ids-{seed}")
        self._ms = int(datetime.combine(day, datetime.min.time()).timestamp() * 1000)

    def __call__(self) -> str:
        self._ms += 1
        return str(ULID.from_bytes(self._ms.to_bytes(6, "big") + self._random.randbytes(10)))


def load(store: Store, *, town: str = DEMO_TOWN, people_per_village: int = PEOPLE_PER_VILLAGE,
         seed: int = SEED) -> dict:
    places_and_accounts(store)
    # A laptop on its own keeps the default list; once enrolled, its hub's list comes with the pull.
    theme_days.seed(store, clock.today().year, actor="demo", publish=False)
    return _town_laptop(store, town, people_per_village, seed)


def _town_laptop(store: Store, town: str, people_per_village: int, seed: int, *, sealed: bool = True) -> dict:
    """A town's roster, sessions, check-ins and fitness answers as its laptop made them.
    The hub's copy (sealed False) has the ID numbers only masked: a laptop's keyed hash is
    its own, and the hub's would differ from it (decision 0003)."""
    rng = random.Random(seed)
    day = datetime.combine(clock.today(), datetime.min.time())
    ids = DemoIds(seed, day.date())
    villages = places.children(store, town, "village")
    town_name = places.name_of(store, town)
    roster = [demo_person(rng, town, v["code"]) for v in villages for _ in range(people_per_village)]
    if not sealed:
        roster = [_masked(person) for person in roster]
    # One transaction each for the roster and the scans (a write inside a write joins it).
    registered = store.write(lambda db: [people.register(store, person, actor="demo", person_id=ids())
                                         for person in roster])
    outreach = {"venue_type": "community", "groups_served": "elderly,farmers", "safety_plan": True}
    plan = [
        ("training", f"{town_name}社会体育指导员培训（专家走基层）", day.replace(hour=9), 3.0, {}),
        ("volunteer", "全民健身志愿服务进社区", (day - timedelta(days=6)).replace(hour=8, minute=30), 2.0, outreach),
        ("theme", "8月8日全民健身日主题活动", datetime(day.year, 8, 8, 8, 30), 2.5,
         {**outreach, "venue_type": "square", "theme_day": f"{day.year}-fitness-day"}),
        ("monitoring", "国民体质监测进乡镇", (day - timedelta(days=20)).replace(hour=9), 4.0, {}),
        ("theme", "12月5日国际志愿者日健步走", datetime(day.year, 12, 5, 9, 0), 2.0,
         {"venue_type": "square", "safety_plan": True, "theme_day": f"{day.year}-volunteer-day"}),
    ]
    made = []
    for kind, title, starts, hours, tags in plan:
        made.append(sessions.create(store, {**tags,
            "kind": kind, "title": title, "organizer": f"{town_name}文体站", "mode": "offline",
            "summary": f"{title}，面向{town_name}各村社会体育指导员和群众。",
            "starts_at": starts, "ends_at": starts + timedelta(hours=hours), "town": town,
            "venue": f"{town_name}文化广场", "contact_name": "刘老师", "contact_phone": "0631-5212345",
            "hours": hours, "form_id": DEMO_FORMS.get(kind)}, actor="demo", session_id=ids()))
    # Sessions before today have attendance; today's training starts empty for the kiosk.
    store.write(lambda db: [checkins.check_in(store, session_id=session["id"], person_id=person["id"],
                                              station="demo", scanned_at=arrived, client_id=ids())
                            for session, person, arrived in _attendance(rng, made[1:4], registered, day)])
    form_demo.fill_fitness(store, next(s for s in made if s["kind"] == "monitoring"), ids=ids)
    return {"town": town, "town_name": town_name, "people": len(registered), "sessions": made,
            "registered": registered}


def _attendance(rng: random.Random, held: list[dict], registered: list[dict], day: datetime):
    """(session, person, arrival) for forty people at each session held before today."""
    for session in held:
        if session["starts_at"] > day.isoformat():
            continue
        start = datetime.fromisoformat(session["starts_at"])
        for person in rng.sample(registered, min(len(registered), 40)):
            yield session, person, (start + timedelta(minutes=rng.randint(-10, 25))).astimezone()


def _masked(person: dict) -> dict:
    person = dict(person)
    person["id_number_masked"] = mask_id_number(person.pop("id_number"))
    return person


# -- the hub: the whole city -------------------------------------------------
PAIRED_ORGANISATIONS = (("威海市太极拳协会", "孙秀兰", "13963100001"), ("威海市健身气功协会", "周建国", "13963100002"),
                        ("威海市门球协会", "吴德明", "13963100003"))


def _approve_ended(store: Store, made: list[dict]) -> None:
    """The association has reviewed the other towns' ended activities (decision 0170)."""
    from fieldsync.records import hour_reviews

    now = clock.minute()
    for session in made:
        if (hour_reviews.session(store.db, session["id"])["ends"] or now) < now:
            hour_reviews.review(store, session["id"], "approve", actor="demo")


def load_hub(store: Store, *, seed: int = SEED, year: int | None = None) -> dict:
    """The whole demo city as the hub sees it after every town has synced: each town's
    roster (one person registered twice, in two towns), a year of sessions including the
    theme days, their check-ins, and three 结对子 pairings. The demo town's part is what its
    laptop's demo (`load`) holds, under the same ids: that laptop syncing adds nothing twice."""
    from fieldsync.reports import organisations, pairings

    rng = random.Random(f"hub-{seed}")   # not the laptop's sequence: other towns, other people
    year = year or clock.today().year
    places_and_accounts(store)
    for listed in {year, clock.today().year}:   # the laptop's demo sessions are of this year
        theme_days.seed(store, listed, actor="demo")
    towns = places.by_kind(store, "town")
    laptop = _town_laptop(store, DEMO_TOWN, PEOPLE_PER_VILLAGE, SEED, sealed=False)
    others = [t for t in towns if t["code"] != DEMO_TOWN]
    roster = {DEMO_TOWN: laptop["registered"]} | {t["code"]: _hub_roster(store, rng, t["code"]) for t in others}
    first, far = roster[DEMO_TOWN][0], towns[-1]["code"]
    people.register(store, {"name": first["name"], "phone": first["phone"], "level": first["level"], "town": far,
                            "village": places.children(store, far, "village")[0]["code"]}, actor="demo")
    made = [sessions.create(store, plan, actor="demo") for plan in _hub_sessions(store, rng, others, year)]
    scans = [scan for s in made for scan in _hub_scans(store, rng, s, roster)]
    store.write(lambda db: db["checkins"].insert_all(scans))
    _approve_ended(store, [s for s in made if s["kind"] in ("volunteer", "theme")])
    made += laptop["sessions"]   # the demo town's wait for its staff's review (待审核)
    for (name, contact, phone), town in zip(PAIRED_ORGANISATIONS, towns[::4]):
        village = places.children(store, town["code"], "village")[0]
        organisation = organisations.save(store, {"name": name, "kind": "association", "contact_name": contact,
                                                  "contact_phone": phone}, actor="demo")
        pair = pairings.create(store, {"organisation": organisation["id"], "village": village["code"],
                                       "since": date(year, 3, 15)}, actor="demo")
        for session in [s for s in made if s["town"] == town["code"] and s["kind"] == "volunteer"][:3]:
            pairings.link(store, pair["id"], session["id"])
        pairings.add_team(store, pair["id"], {"name": f"{village['name']}{name[3:-2]}队", "members": 12,
                                              "formed_on": date(year, 5, 1)}, actor="demo")
        leader = next((p for p in roster[town["code"]] if p["village"] == village["code"]), None)
        if leader:   # a local leader the pairing found (the plan's 裂变式 aim)
            pairings.recruit(store, pair["id"], leader["id"], actor="demo")
    return {"towns": len(towns), "people": sum(map(len, roster.values())) + 1, "sessions": len(made),
            "checkins": store.db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0], "year": year}


def _hub_roster(store: Store, rng: random.Random, town: str) -> list[dict]:
    villages = places.children(store, town, "village")
    return people.register_many(store, [demo_person(rng, town, v["code"]) for v in villages
                                        for _ in range(rng.randint(2, 8))], actor="demo")


def _outreach(month: int) -> dict:
    """What a volunteer activity of the month reached (not drawn from rng: the demo's people and
    dates stay what they were)."""
    venues, groups = list(VENUE_TYPES), list(GROUPS_SERVED)
    return {"venue_type": venues[month % len(venues)], "safety_plan": month % 5 != 0,
            "groups_served": f"{groups[month % len(groups)]},{groups[(month + 3) % len(groups)]}"}


def _hub_sessions(store: Store, rng: random.Random, towns: list[dict], year: int) -> list[dict]:
    plans = []
    for town in towns:
        name = town["name"]
        villages = places.children(store, town["code"], "village")
        plans += [("training", f"{name}社会体育指导员培训（专家走基层）", town,
                   datetime(year, month, rng.randint(5, 25), 9), 3.0, {}) for month in (3, 9)]
        plans += [("volunteer", f"全民健身志愿服务进{rng.choice(villages)['name']}", town,
                   datetime(year, m, rng.randint(1, 28), 8, 30), 2.0,
                   _outreach(m)) for m in rng.sample(range(1, 13), 6)]
        plans.append(("monitoring", "国民体质监测进乡镇", town, datetime(year, rng.randint(4, 10), 12, 9), 4.0, {}))
    for index, theme_day in enumerate(theme_days.for_year(store.db, year)):
        first, last = (date.fromisoformat(theme_day[key]) for key in ("starts_on", "ends_on"))
        held = first + (last - first) / 2  # the middle of 全民健身月, the day itself otherwise
        plans.append(("theme", f"{theme_day['name']}主题活动", towns[index % len(towns)],
                      datetime(held.year, held.month, held.day, 8), 2.5,
                      {"theme_day": theme_day["id"], "venue_type": "square", "safety_plan": True}))
    return [{"kind": kind, "title": title, "organizer": f"{town['name']}文体站", "mode": "offline",
             "summary": f"{title}，面向{town['name']}各村社会体育指导员和群众。", "starts_at": starts,
             "ends_at": starts + timedelta(hours=hours), "town": town["code"], "venue": f"{town['name']}文化广场",
             "contact_name": "刘老师", "contact_phone": "0631-5212345", "hours": hours, **tags}
            for kind, title, town, starts, hours, tags in plans]


def _hub_scans(store: Store, rng: random.Random, session: dict, roster: dict[str, list[dict]]) -> list[dict]:
    """Check-ins of a past session as its town's laptop recorded them: in, and mostly out."""
    start = clock.parse(session["starts_at"])
    if start > clock.now():
        return []
    local = roster[session["town"]]
    scans = []
    for person in rng.sample(local, min(len(local), rng.randint(8, 30))):
        times = [("in", start + timedelta(minutes=rng.randint(-10, 20)))]
        if rng.random() < 0.8:
            times.append(("out", start + timedelta(hours=session["hours"], minutes=rng.randint(-45, 30))))
        scans += [{"id": new_id(), "session_id": session["id"], "person_id": person["id"], "direction": direction,
                   "scanned_at": clock.utc_text(at), "hlc": store.hlc.now(), "node": f"demo-{session['town']}",
                   "station": "demo", "method": "qr", "flags": ""} for direction, at in times]
    return scans
