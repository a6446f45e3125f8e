"""Hubs of hubs (issue 19, decision 0130): county hubs enroll into the city, the city into the
province; each level holds every check-in of its area once, conflicts wait where both sides
first meet, and the wrong kind of code, unit or parent is refused. Every hub is its own
`fieldsync serve` process, with a fault proxy in front of each."""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from pathlib import Path

import openpyxl
import pytest
import requests

from fieldsync import config, demo
from fieldsync.errors import FieldsyncError
from fieldsync.parts import open_store
from fieldsync.records import people, places, theme_days
from fieldsync.reports import kpi, targets, units
from fieldsync.sheets.table import filed_line
from fieldsync.store import clock
from fieldsync.sync import enrollment
from fieldsync.sync.upstream import node as node_sync
from fieldsync.sync.upstream.client import gzip_json
from tests.backends import copy_instance
from tests.support import LiveServer, WebClient, run_cli
from tests.sync.conftest import TOWN_A, TOWN_B, _new_identity
from tests.sync.proxy import Fault, FaultProxy

PROVINCE, CITY, COUNTY_1, COUNTY_2 = "370000000000", "371000", "371002", "371003"
TOWN_C, TOWN_D = "371003100000", "371003101000"     # 米山镇, 界石镇 of 文登区


def make_hub(template: Path, path: Path, unit: str) -> Path:
    """A hub instance of its own (database id, replica) serving `unit`."""
    copy_instance(template, path)
    _new_identity(path / "fieldsync.db")
    with open_store(path / "fieldsync.db") as store:
        places.set_home_unit(store, unit)
    return path


def add_code(hub: Path, *args: str, check: bool = True):
    result = run_cli(hub, "nodes", "add", "--name", "n", *args, check=check)
    found = re.search(r"Enrollment code: (\S+)", result.stdout)
    return found.group(1) if found else result


def refused(result, words: str) -> bool:
    return result.returncode in (1, 2) and words in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def county_2_templates(tmp_path_factory) -> dict[str, Path]:
    """Town laptops of the second county, each with a small roster, sessions and check-ins."""
    made = {}
    for seed, town in enumerate((TOWN_C, TOWN_D), start=31):
        path = tmp_path_factory.mktemp(f"town-{town}")
        config.save(path, mode="node", town=town)
        with open_store(path / "fieldsync.db") as store:
            demo.load(store, town=town, people_per_village=2, seed=seed)
        made[town] = path
    return made


def test_a_city_issues_hub_codes_only_for_its_counties_and_one_hub_per_county(hub_template, tmp_path):
    city = make_hub(hub_template, tmp_path / "city", CITY)
    county = make_hub(hub_template, tmp_path / "county", COUNTY_1)
    with LiveServer(city, hub=True) as server:
        assert refused(add_code(city, "--unit", TOWN_A, check=False), "not a unit directly under")
        assert refused(add_code(city, "--unit", "372000", check=False), "not a unit directly under")
        assert refused(add_code(county, "--unit", CITY, check=False), "not a unit directly under")
        assert refused(add_code(city, "--town", TOWN_A, "--unit", COUNTY_1, check=False), "either --town")
        code = add_code(city, "--unit", COUNTY_1)
        assert refused(add_code(city, "--unit", COUNTY_1, check=False), "already serves")
        # The code names its unit: another county's hub cannot take it.
        other = make_hub(hub_template, tmp_path / "other", COUNTY_2)
        assert refused(run_cli(other, "enroll", server.url, code, check=False), "This code is for the hub of")
        run_cli(county, "enroll", server.url, code)
        staff = WebClient(server.url)
        assert staff.login("staff").ok
        assert staff.get("/hub/nodes").text.count('data-kind="hub"') == 1
        assert "[child hub]" in run_cli(city, "nodes", "list").stdout
        # A second code for the same unit, once the first looked expired: the enroll still finds the twin.
        with open_store(city / "fieldsync.db") as store:
            store.write(lambda db: db.execute("UPDATE nodes SET enrolled_at = NULL, code_expires_at = '2000-01-01' WHERE kind = 'hub'"))
            twin, second = enrollment.add_node(store, COUNTY_1, "twin", hub=True)
            store.write(lambda db: db.execute("UPDATE nodes SET enrolled_at = created_at WHERE kind = 'hub'"
                                              " AND id != ?", [twin["id"]]))
        again = make_hub(hub_template, tmp_path / "again", COUNTY_1)
        assert refused(run_cli(again, "enroll", server.url, second, check=False), "Another hub already serves")
        # A hub's request for a unit not below the city, by hand: 403 with its own code.
        request = {"code": second, "protocol": 1, "origin": "01JD0000000000000000000000",
                   "badge_public_key": "A" * 43 + "=", "bundle_public_key": "A" * 43 + "=",
                   "mode": "hub", "unit": "372000"}
        answer = requests.post(server.url + "/api/v1/sync/enroll", data=gzip_json(request), timeout=10,
                               headers={"Content-Encoding": "gzip", "Content-Type": "application/json",
                                        "Fieldsync-Protocol": "1"})
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "wrong_unit"
    with open_store(county / "fieldsync.db") as store:
        assert store.get_meta("parent_hub")
        assert enrollment.credentials(county).town == COUNTY_1
    assert config.load(county)["MODE"] == "hub" and config.load(county)["TOWN"] is None
    # A province hub is made as any hub is.
    province = tmp_path / "province"
    run_cli(province, "init", "--hub", "--unit", PROVINCE, "--password", "a-long-passphrase")
    with open_store(province / "fieldsync.db") as store:
        assert places.home_unit(store.db) == PROVINCE


class Laptop:
    def __init__(self, instance: Path):
        self.instance = instance
        self.store = open_store(instance / "fieldsync.db")

    def sync(self) -> None:
        retrying(lambda: node_sync.sync(self.store, self.instance))

    def ids(self, table: str) -> set:
        return {r["id"] for r in self.store.query(f"SELECT id FROM {table}")}


def retrying(step, tries: int = 5):
    """A sync through a faulty proxy fails now and then; running it again is what a user does."""
    for attempt in range(tries):
        try:
            return step()
        except FieldsyncError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2)


def hub_sync(hub: Path) -> node_sync.SyncSummary:
    """What `fieldsync sync` does on a hub, here in the test's process beside the hub's server."""
    with open_store(hub / "fieldsync.db") as store:
        return retrying(lambda: node_sync.sync(store, hub))


def code_for(hub: Path, place: str, *, child_hub: bool = False) -> str:
    with open_store(hub / "fieldsync.db") as store:
        return enrollment.add_node(store, place, f"for {place}", hub=child_hub)[1]


def enroll(instance: Path, url: str, code: str) -> None:
    with open_store(instance / "fieldsync.db") as store:
        enrollment.enroll(store, instance, url, code)


def query(hub: Path, sql: str, params=()) -> list[dict]:
    with open_store(hub / "fieldsync.db") as store:
        return store.query(sql, params)


def statistics_cells(hub: Path, unit: str, year: int) -> list[list]:
    """Every cell of the unit's 统计表 as `fieldsync report statistics` writes it at this hub, the
    填报日期 left out when it is today (the day it is built, not a figure)."""
    out = hub / f"statistics-{unit}-{year}.xlsx"
    run_cli(hub, "report", "statistics", "--year", str(year), "--unit", unit, "-o", str(out))
    today = filed_line(clock.today())
    sheet = openpyxl.load_workbook(out).active
    return [[None if cell == today else cell for cell in row] for row in sheet.iter_rows(values_only=True)]


def ids(hub: Path, table: str) -> list:
    return [r["id"] for r in query(hub, f"SELECT id FROM {table}")]


def test_four_levels_carry_every_checkin_once_and_queue_each_conflict_where_it_first_meets(
        hub_template, demo_template, town_b_template, county_2_templates, tmp_path):
    hubs = {unit: make_hub(hub_template, tmp_path / name, unit) for name, unit in
            (("province", PROVINCE), ("city", CITY), ("county1", COUNTY_1), ("county2", COUNTY_2))}
    with ExitStack() as stack:
        servers = {unit: stack.enter_context(LiveServer(path, hub=True)) for unit, path in hubs.items()}
        proxies = {unit: stack.enter_context(FaultProxy(server.port)) for unit, server in servers.items()}

        # The chain: the city under the province, the counties under the city. A laptop cannot take
        # a hub's code, a hub cannot take a laptop's.
        enroll(hubs[CITY], proxies[PROVINCE].url, code_for(hubs[PROVINCE], CITY, child_hub=True))
        enroll(hubs[COUNTY_1], proxies[CITY].url, code_for(hubs[CITY], COUNTY_1, child_hub=True))
        county_2_code = code_for(hubs[CITY], COUNTY_2, child_hub=True)
        laptop_c = tmp_path / TOWN_C
        copy_instance(county_2_templates[TOWN_C], laptop_c)
        with pytest.raises(FieldsyncError) as taken:
            enroll(laptop_c, proxies[CITY].url, county_2_code)
        assert taken.value.status == 409 and taken.value.code == "code_for_a_hub"
        enroll(hubs[COUNTY_2], proxies[CITY].url, county_2_code)
        laptop_code = code_for(hubs[COUNTY_1], TOWN_A)
        with pytest.raises(FieldsyncError) as taken:   # the city under its own county: refused
            enroll(hubs[CITY], proxies[COUNTY_1].url, laptop_code)
        assert taken.value.status == 409 and taken.value.code == "code_for_a_laptop"
        assert enrollment.credentials(hubs[CITY]).hub_url == proxies[PROVINCE].url

        laptops = {}
        for town, template, unit in ((TOWN_A, demo_template, COUNTY_1), (TOWN_B, town_b_template, COUNTY_1),
                                     (TOWN_C, None, COUNTY_2), (TOWN_D, county_2_templates[TOWN_D], COUNTY_2)):
            path = tmp_path / town
            if template is not None:
                copy_instance(template, path)
            laptops[town] = Laptop(path)
            enrollment.enroll(laptops[town].store, path, proxies[unit].url,
                              laptop_code if town == TOWN_A else code_for(hubs[unit], town))
            stack.callback(laptops[town].store.close)

        # One certificate number given out in two towns of county 1, another in a town of each county.
        a, b, c = (laptops[t].store.query("SELECT id FROM people ORDER BY id LIMIT 2") for t in (TOWN_A, TOWN_B, TOWN_C))
        people.modify(laptops[TOWN_A].store, a[0]["id"], {"certificate_no": "威体指2026-0001"}, actor="a")
        people.modify(laptops[TOWN_B].store, b[0]["id"], {"certificate_no": "威体指2026-0001"}, actor="b")
        people.modify(laptops[TOWN_A].store, a[1]["id"], {"certificate_no": "威体指2026-0002"}, actor="a")
        people.modify(laptops[TOWN_C].store, c[0]["id"], {"certificate_no": "威体指2026-0002"}, actor="c")

        # Each hub seeds its year's theme days, as `init --hub` does; the city renames one, and its
        # activities' 备注 in the 统计表 name it so at every level below the city.
        year = clock.today().year
        for hub in hubs.values():
            with open_store(hub / "fieldsync.db") as store:
                theme_days.seed(store, year, actor="init")
        with open_store(hubs[CITY] / "fieldsync.db") as store:
            theme_days.save(store, {"name": "威海市全民健身日", "starts_on": f"{year}-08-08"},
                            theme_day_id=f"{year}-fitness-day", actor="city")

        for proxy in proxies.values():   # every level loses an answer and has one cut short
            proxy.plan(Fault.reset_response(after=0), None, Fault.truncate_response(after=40))
        for laptop in laptops.values():
            laptop.sync()
        hub_sync(hubs[COUNTY_1])
        hub_sync(hubs[COUNTY_2])
        hub_sync(hubs[CITY])

        checkins = {t: laptop.ids("checkins") for t, laptop in laptops.items()}
        county_1 = checkins[TOWN_A] | checkins[TOWN_B]
        county_2 = checkins[TOWN_C] | checkins[TOWN_D]
        assert county_1 and county_2
        for unit, expected in ((COUNTY_1, county_1), (COUNTY_2, county_2), (CITY, county_1 | county_2),
                               (PROVINCE, county_1 | county_2)):
            found = ids(hubs[unit], "checkins")
            assert len(found) == len(expected) and set(found) == expected, unit
            assert query(hubs[unit], "SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0, unit
        sessions = {(r["id"], r["town"]) for laptop in laptops.values()
                    for r in laptop.store.query("SELECT id, town FROM sessions")}
        for unit in (CITY, PROVINCE):
            assert {(r["id"], r["town"]) for r in query(hubs[unit], "SELECT id, town FROM sessions")} == sessions
        # Reports are the same at every level for the same area (DESIGN §8a): the county's 统计表.
        at_county = statistics_cells(hubs[COUNTY_1], COUNTY_1, year)
        assert at_county == statistics_cells(hubs[CITY], COUNTY_1, year)
        assert any("主题日：威海市全民健身日" in str(cell) for row in at_county for cell in row)

        def conflicts(unit):
            return sorted(r["kept_value"] for r in query(hubs[unit], "SELECT kept_value FROM conflicts"))
        assert conflicts(COUNTY_1) == ['"威体指2026-0001"']
        assert conflicts(COUNTY_2) == []
        assert conflicts(CITY) == ['"威体指2026-0002"']
        assert conflicts(PROVINCE) == []

        # Down: the province's edit reaches the town's laptop through city and county, and goes
        # back up from nowhere.
        person = c[1]["id"]
        with open_store(hubs[PROVINCE] / "fieldsync.db") as store:
            people.modify(store, person, {"specialty": "太极拳"}, actor="province")
        outbox = query(hubs[COUNTY_2], "SELECT COUNT(*) AS n FROM changes")[0]["n"]
        hub_sync(hubs[CITY])
        hub_sync(hubs[COUNTY_2])
        laptops[TOWN_C].sync()
        assert laptops[TOWN_C].store.query("SELECT specialty FROM people WHERE id = ?", [person])[0]["specialty"] \
            == "太极拳"
        assert query(hubs[COUNTY_2], "SELECT COUNT(*) AS n FROM changes")[0]["n"] == outbox
        # Targets down the chain (decision 0290): the province sets the city's, the city the
        # county's and one town's; the county keeps its own for a town the city left alone, and
        # the city's figure replaces one the county had set.
        def set_targets(unit_hub, unit, figures):
            with open_store(hubs[unit_hub] / "fieldsync.db") as store:
                targets.set_targets(store, unit, year, figures, actor="test")

        def target(unit_hub, unit, figure=None):
            with open_store(hubs[unit_hub] / "fieldsync.db") as store:
                if figure is None:
                    return {r["key"]: (r["target"], r["source"].how)
                            for r in kpi.yearly(store.db, units.resolve(store.db, unit, year), year)}
                return targets.applied(store.db, unit, year)[figure]

        city_code, county_code = (query(hubs[CITY], "SELECT code FROM places WHERE code IN (?, ?)",
                                        [u, u + "000000"])[0]["code"] for u in (CITY, COUNTY_1))
        set_targets(PROVINCE, city_code, {"trained": 5000})
        set_targets(CITY, county_code, {"trained": 900, "activities": 40})
        set_targets(CITY, TOWN_A, {"monitored": 77})
        set_targets(COUNTY_1, TOWN_B, {"monitored": 55})
        set_targets(COUNTY_1, county_code, {"activities": 10})
        hub_sync(hubs[CITY])
        hub_sync(hubs[COUNTY_1])
        assert (target(CITY, city_code, "trained").value, target(CITY, city_code, "trained").how) == (5000, "parent")
        kpi_at_county = target(COUNTY_1, county_code)
        assert kpi_at_county["trained"] == (900, "parent") and kpi_at_county["activities"] == (40, "parent")
        assert target(COUNTY_1, county_code, "activities").describe() == "上级中心设定"
        assert (target(COUNTY_1, TOWN_A, "monitored").value, target(COUNTY_1, TOWN_A, "monitored").how) == (77, "parent")
        assert (target(COUNTY_1, TOWN_B, "monitored").value, target(COUNTY_1, TOWN_B, "monitored").how) == (55, "set")
        with pytest.raises(FieldsyncError) as taken:   # the parent's figure is the parent's to change
            set_targets(COUNTY_1, county_code, {"trained": 1})
        assert taken.value.status == 409 and taken.value.code == "target_set_by_parent"
        set_targets(CITY, county_code, {"activities": None})   # the city clears one: it is gone below
        hub_sync(hubs[COUNTY_1])
        assert target(COUNTY_1, county_code, "activities").how == "default"
        assert target(COUNTY_1, county_code, "trained").value == 900
        # A county's laptops hold their own towns only.
        assert {r["town"] for r in laptops[TOWN_A].store.query("SELECT town FROM people")} == {TOWN_A}
        # Nothing is sent twice: another round pushes nothing anywhere.
        for hub in (hubs[COUNTY_1], hubs[COUNTY_2], hubs[CITY]):
            assert hub_sync(hub).push.pushed == 0


def test_a_city_authorizes_a_county_hub_by_the_countys_towns(hub_template, tmp_path):
    from fieldsync.parts import open_store
    from fieldsync.store import new_id
    from fieldsync.sync.downstream import policy
    from tests.sync.forger import Forger

    city = make_hub(hub_template, tmp_path / "city", CITY)
    county = make_hub(hub_template, tmp_path / "county", COUNTY_1)
    with LiveServer(city, hub=True) as server:
        enroll(county, server.url, code_for(city, COUNTY_1, child_hub=True))
        token = enrollment.credentials(county).token
        with open_store(county / "fieldsync.db") as store:
            forger = Forger(store.node_id)
        laptop = new_id()   # a laptop of the county: the city never saw its database id
        ours, theirs = new_id(), new_id()
        session = {"title": "培训", "kind": "training", "mode": "offline", "status": "active"}
        forger.upsert("sessions", ours, {**session, "town": TOWN_B}, action="create")
        forger.upsert("sessions", theirs, {**session, "town": TOWN_C}, action="create")
        ack = forger.push(server.url, token)
        assert [r["seq"] for r in ack["rejected"]] == [2]
        scanned = forger.checkin(ours, new_id())
        forger.rows["checkins"][-1]["node"] = laptop
        forger.upsert("sessions", ours, {"town": TOWN_A})     # a move inside the county: its own
        assert forger.push(server.url, token)["rejected"] == []
        forger.upsert("sessions", ours, {"town": TOWN_C})     # out of the county: the city decides
        assert len(forger.push(server.url, token)["rejected"]) == 1
    assert query(city, "SELECT id, town FROM sessions") == [{"id": ours, "town": TOWN_A}]
    assert query(city, "SELECT node FROM checkins WHERE id = ?", [scanned]) == [{"node": laptop}]
    assert [(r["record_id"], r["code"]) for r in query(city, "SELECT record_id, code FROM quarantine ORDER BY id")] \
        == [(theirs, policy.NOT_YOUR_TOWN), (ours, policy.MOVE_REQUEST)]


def test_a_county_hub_keeps_a_person_moved_between_its_towns_and_lets_go_of_one_moved_out(hub_template, tmp_path):
    import random

    city = make_hub(hub_template, tmp_path / "city", CITY)
    county = make_hub(hub_template, tmp_path / "county", COUNTY_1)

    def village_of(town: str) -> str:
        return query(city, "SELECT code FROM places WHERE parent = ? AND kind = 'village' LIMIT 1", [town])[0]["code"]

    def move(person: str, town: str) -> None:
        with open_store(city / "fieldsync.db") as store:
            people.modify(store, person, {"town": town, "village": village_of(town)}, actor="city")

    with LiveServer(city, hub=True) as server:
        enroll(county, server.url, code_for(city, COUNTY_1, child_hub=True))
        with open_store(city / "fieldsync.db") as store:
            person = people.register(store, demo.demo_person(random.Random(5), TOWN_A, village_of(TOWN_A)),
                                     actor="city")["id"]
        hub_sync(county)
        move(person, TOWN_B)
        hub_sync(county)
        assert query(county, "SELECT town FROM people WHERE id = ?", [person]) == [{"town": TOWN_B}]
        # Still the same record at the county, with its history: not evicted and pulled anew.
        assert len(query(county, "SELECT 1 FROM history WHERE record_id = ?", [person])) == 2
        assert query(county, "SELECT op FROM hub_log WHERE record_id = ? ORDER BY seq", [person]) \
            == [{"op": "evict"}, {"op": "upsert"}]
        move(person, TOWN_C)
        hub_sync(county)
        assert query(county, "SELECT 1 FROM people WHERE id = ?", [person]) == []
        assert {r["op"] for r in query(county, "SELECT op FROM hub_log WHERE record_id = ?", [person])} == {"evict"}


def test_a_county_hub_sends_its_own_lists_up_as_bare_seqs(hub_template, tmp_path):
    """Its theme days (and forms) are for its laptops; the city keeps its own and never takes them,
    so they travel without their record, and what the city does take travels whole (decision 0291)."""
    import random

    from fieldsync.sync import batches, chain

    county = make_hub(hub_template, tmp_path / "county", COUNTY_1)
    with open_store(county / "fieldsync.db") as store:
        store.write(lambda db: chain.become_child(db, "http://127.0.0.1:9"))
        theme_days.seed(store, clock.today().year, actor="init")
        village = store.query("SELECT code FROM places WHERE parent = ? AND kind = 'village' LIMIT 1", [TOWN_A])
        people.register(store, demo.demo_person(random.Random(5), TOWN_A, village[0]["code"]), actor="county")
        batch = batches.read_batch(store.db, 0, max_changes=10_000, max_bytes=10**8, replica="r")
        outbox = store.query("SELECT entity, payload FROM changes WHERE entity = 'theme_days'")
    sent = {kind: [c["payload"] for c in batch.body["changes"] if c["entity"] == kind]
            for kind in ("theme_days", "people")}
    assert sent["theme_days"] and all(p == {} for p in sent["theme_days"])
    assert all(r["payload"] != "{}" for r in outbox)   # still whole below, for the county's laptops
    assert len(sent["people"]) == 1 and sent["people"][0]["fields"]["town"] == TOWN_A
