"""Set-up for hub_merge_bench's hubs-of-hubs mode (issue 19, decision 0130): county hubs
enrolled with a city hub, each holding its laptops' check-ins as its own merge leaves them.

A county hub's merge inserts the check-ins its laptops push and queues each one for the city
(`chain.forward_inserted`: an outbox row naming it, its columns read from the table at push
time). Here the same rows are inserted in bulk and queued by that same function, so the
county's outbox is what a hundred thousand merged check-ins leave, without timing the laptops'
pushes to the county. People and sessions are at the county and the city already (as
sync_bench.make_node seeds them at both ends), so in both halves of the bench the timed push
carries the check-ins and nothing else.

Laptop i of the plan is in county i mod N, in that county's towns in turn, with sync_bench's
check-ins for seed i: the laptops pushing straight to the city and the county hubs carry the
same generated check-ins (the laptops' database ids differ).
"""

from __future__ import annotations

from pathlib import Path

from sync_bench import COLUMNS, seed_roster, town_checkins

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.records import places
from fieldsync.store import new_id
from fieldsync.sync import chain, enrollment, entities

CITY = "371000"                       # 威海市, the demo gazetteer's city


def extra_counties(known: list[str], count: int) -> list[dict]:
    """Place rows for the counties (one town each) the demo gazetteer's four fall short of `count`;
    codes 371010–371099 under the city that the gazetteer does not use."""
    spare = [code for code in (f"3710{n:02d}" for n in range(10, 100)) if code not in known]
    rows = []
    for code in spare[:max(count - len(known), 0)]:
        rows += [{"code": code, "name": f"测试区{code[-2:]}", "kind": "county", "parent": CITY},
                 {"code": f"{code}100000", "name": f"测试镇{code[-2:]}", "kind": "town", "parent": code}]
    return rows


def city_gazetteer(hub: Path, counties: int) -> tuple[list[dict], list[tuple[str, list[str]]]]:
    """Give a hub made by sync_bench.make_hub the city as its unit and `counties` counties; return
    the rows added (for the county hubs' gazetteers) and each county with its towns."""
    with open_store(hub / "fieldsync.db") as store:
        known = [place["code"] for place in places.by_kind(store, "county")]
        added = extra_counties(known, counties)
        if added:
            places.import_places(store, added)
        places.set_home_unit(store, CITY)
        units = [(county["code"], [town["code"] for town in places.children(store, county["code"], "town")])
                 for county in places.by_kind(store, "county")[:counties]]
    if len(units) < counties:
        raise SystemExit(f"at most {len(units)} counties")
    return added, units


def plan(areas: list[list[str]], nodes: int, total: int) -> list[tuple[int, str, int]]:
    """(seed, town, check-ins) of each laptop: laptop i in area i mod N (a county's towns), that
    area's towns in turn, the check-ins shared out as evenly as they go."""
    laptops = []
    for index in range(nodes):
        towns = areas[index % len(areas)]
        laptops.append((index, towns[(index // len(areas)) % len(towns)], total // nodes + (index < total % nodes)))
    return laptops


def make_county(folder: Path, city: Path, city_url: str, unit: str, added: list[dict],
                laptops: list[tuple[int, str, int]]) -> tuple[Path, str]:
    """A county hub serving `unit` (as `init --hub --unit` makes it) enrolled with the city over
    HTTP, its outbox holding the check-ins of `laptops`; returns it and the year they fall in."""
    county = folder / f"county-{unit}"
    config.save(county, mode="hub")
    with open_store(county / "fieldsync.db") as store:
        demo.places_and_accounts(store)
        places.import_places(store, added)
        places.set_home_unit(store, unit)
    with open_store(city / "fieldsync.db") as city_store:
        _, code = enrollment.add_node(city_store, unit, f"hub {unit}", hub=True)
    with open_store(county / "fieldsync.db") as store:
        enrollment.enroll(store, county, city_url, code)
    rows = []
    for seed, town, count in laptops:
        made = town_checkins(count, new_id(), seed=seed)   # a laptop the city never saw
        for db_file in (county / "fieldsync.db", city / "fieldsync.db"):
            seed_roster(db_file, made, town)
        rows += made
    forward(county, rows)
    return county, rows[0][6][:4]


def forward(county: Path, rows: list[tuple]) -> None:
    """Insert the check-ins at the county and queue them for the city as its merge does."""
    def work(db) -> None:
        after = chain.last_rowid(db, "checkins")
        db.conn.executemany(f"INSERT INTO checkins ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                            rows)
        chain.forward_inserted(db, entities.get("checkins"), after)

    with open_store(county / "fieldsync.db") as store:
        store.write(work)
