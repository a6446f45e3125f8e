"""Exports across the sync, with the hub and the laptop as separate processes: the js365 mark made
on a laptop reaches the hub (and its dashboard's count of activities not yet filed), and the
hub's S12 carries whole ID numbers only from a laptop's own S12 file, each on its owner."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from fieldsync.records import people, sessions
from fieldsync.records.schemas import SessionSchema, load
from tests.support import WebClient, run_cli
from tests.sync.conftest import TOWN_A


def _rows(path: Path) -> list[list]:
    return [[cell.value for cell in row] for row in openpyxl.load_workbook(path).active.iter_rows()]


def _unfiled_on_dashboard(hub: WebClient) -> str:
    page = hub.get("/hub/?year=2024")
    assert page.status_code == 200
    start = page.text.index('id="attention-js365"')
    return page.text[page.text.index(">", start) + 1:page.text.index("</a>", start)].strip()


def test_the_js365_mark_made_on_a_laptop_reaches_the_hub_and_back(cluster):
    node = cluster.add_node(TOWN_A)
    held, other = (sessions.create(node.store, load(SessionSchema(), {
        "kind": "theme", "title": title, "organizer": "张村镇文体站", "undertaker": "张村镇老年体协",
        "starts_at": f"{day}T08:30", "ends_at": f"{day}T11:00", "town": TOWN_A}), actor="test")
        for title, day in (("全民健身日健步走", "2024-08-08"), ("国庆登山", "2024-10-01")))
    node.sync()
    hub = WebClient(cluster.hub.url)
    assert hub.login("staff").ok
    assert _unfiled_on_dashboard(hub) in ("2 ended activities not yet filed on js365", "2 个已结束的活动尚未在全民健身信息服务平台填报")

    node.serve()
    node.staff.get(f"/sessions/{held['id']}")
    assert node.staff.form(f"/sessions/{held['id']}/js365", {}).status_code == 200
    node.sync()

    on_node = node.query("SELECT undertaker, js365_filed_at, js365_filed_by FROM sessions WHERE id = ?", [held["id"]])
    on_hub = cluster.hub_query("SELECT undertaker, js365_filed_at, js365_filed_by FROM sessions WHERE id = ?",
                               [held["id"]])
    assert on_hub == on_node and on_hub[0]["js365_filed_by"] == "staff" and on_hub[0]["js365_filed_at"]
    assert on_hub[0]["undertaker"] == "张村镇老年体协"
    assert _unfiled_on_dashboard(hub).startswith("1 ")

    hub.get(f"/sessions/{other['id']}")                   # marked at the hub: the laptop gets it at its pull
    assert hub.form(f"/sessions/{other['id']}/js365", {}).status_code == 200
    assert _unfiled_on_dashboard(hub).startswith("0 ")
    node.sync()
    assert node.query("SELECT js365_filed_by FROM sessions WHERE id = ?", [other["id"]]) == [{"js365_filed_by": "staff"}]


def test_the_hub_takes_whole_id_numbers_only_from_a_laptops_file_and_puts_each_on_its_owner(cluster, tmp_path):
    node = cluster.add_node(TOWN_A)
    node.sync()
    node.close_store()
    laptop_file = tmp_path / "laptop.xlsx"
    run_cli(node.instance, "export", "s12", "--full", "-o", str(laptop_file))
    whole = [(row[0], row[3]) for row in _rows(laptop_file)[3:]]
    assert whole and all("*" not in number for _, number in whole)

    hub_file = tmp_path / "hub.xlsx"
    run_cli(cluster.hub.instance, "export", "s12", "--full", "--unit", TOWN_A, "-o", str(hub_file))
    masked = [(row[0], row[3]) for row in _rows(hub_file)[3:]]
    assert [name for name, _ in masked] == [name for name, _ in whole]
    assert all(number[:4] + "*" * 10 + number[-4:] == hidden for (_, number), (_, hidden) in zip(whole, masked))

    # A file with the numbers shuffled between people: each number still lands on its owner alone.
    book = openpyxl.load_workbook(laptop_file)
    cells = [row[3] for row in book.active.iter_rows(min_row=4)]
    numbers = [cell.value for cell in cells]
    for cell, number in zip(cells, numbers[1:] + numbers[:1]):
        cell.value = number
    cells[0].value = "11010519491231002X"        # a real-looking number of nobody here, over numbers[1]
    shuffled = tmp_path / "shuffled.xlsx"
    book.save(shuffled)
    done = run_cli(cluster.hub.instance, "export", "s12", "--full", "--unit", TOWN_A, "--ids-from", str(shuffled),
                   "-o", str(hub_file))
    assert "1 numbers in the given files fit nobody" in done.stdout
    merged = [(row[0], row[3]) for row in _rows(hub_file)[3:]]
    assert merged == [masked[1] if index == 1 else pair for index, pair in enumerate(whole)]

    # The same from the hub's Exports page: the admin uploads the laptop's file; staff may not.
    admin, staff = WebClient(cluster.hub.url), WebClient(cluster.hub.url)
    for client, name in ((admin, "admin"), (staff, "staff")):
        assert client.login(name).ok
        client.get("/exports")
    upload = {"ids_from": ("laptop.xlsx", laptop_file.read_bytes())}
    assert staff.post("/exports/s12.xlsx", data={"unit": TOWN_A}, files=upload).status_code == 403
    page = admin.post("/exports/s12.xlsx", data={"unit": TOWN_A, "full": "true"}, files=upload)
    assert page.status_code == 200
    web = [(row[0], row[3]) for row in openpyxl.load_workbook(io.BytesIO(page.content)).active.iter_rows(
        min_row=4, values_only=True)]
    assert web == whole


def test_an_edit_made_offline_before_the_hubs_export_shows_in_its_next_changes(cluster, tmp_path):
    node = cluster.add_node(TOWN_A)
    node.sync()
    person = node.store.query_one("SELECT id, name FROM people WHERE level != 'none' ORDER BY name LIMIT 1")
    people.modify(node.store, person["id"], {"specialty": "柔力球（新）"}, actor="test")   # not yet pushed

    first = tmp_path / "first.xlsx"
    run_cli(cluster.hub.instance, "export", "s12", "--unit", TOWN_A, "--changes", "-o", str(first))
    assert {row[0] for row in _rows(first)[3:]} == {"注册"}
    node.sync()                         # the older edit arrives after the export
    later = tmp_path / "later.xlsx"
    run_cli(cluster.hub.instance, "export", "s12", "--unit", TOWN_A, "--changes", "-o", str(later))
    assert [(row[0], row[1], row[13]) for row in _rows(later)[3:]] == [("修改", person["name"], "柔力球（新）")]
