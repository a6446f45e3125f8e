"""One person, once: an ID number hashes alike on every laptop, so the hub finds it in two towns."""

from __future__ import annotations

import re

from fieldsync.records import people
from fieldsync.reports import merges
from tests.support import WebClient
from tests.sync.conftest import TOWN_A, TOWN_B

ID_NUMBER = "11010519491231002X"


def _register(town: str, phone: str):
    def prepare(store):
        people.register(store, {"name": "王芳", "town": town, "phone": phone, "id_number": ID_NUMBER})
    return prepare


def test_the_same_id_number_registered_in_two_towns_is_flagged_at_the_hub(cluster):
    # A registers before enrolling (its hash is remade with the hub's key), B after.
    a = cluster.add_node(TOWN_A, prepare=_register(TOWN_A, "13800000001"))
    b = cluster.add_node(TOWN_B)
    _register(TOWN_B, "13900000002")(b.store)
    a.sync()
    b.sync()
    hashes = {row["id_number_hash"] for node in (a, b)
              for row in node.query("SELECT id_number_hash FROM people WHERE name = '王芳'")}
    assert len(hashes) == 1
    with cluster.hub_store() as hub:
        groups = [g for g in merges.duplicates(hub.db) if g["match"] == "id_number"]
    assert len(groups) == 1
    assert sorted(p["town"] for p in groups[0]["people"]) == sorted([TOWN_A, TOWN_B])
    assert a.query("SELECT action FROM history WHERE action = 'rehash'")


def test_a_synced_certificate_number_another_person_holds_goes_to_review(cluster):
    a = cluster.add_node(TOWN_A)
    b = cluster.add_node(TOWN_B)
    first = people.register(a.store, {"name": "张三", "town": TOWN_A, "certificate_no": "威体指2026-00001"})
    second = people.register(b.store, {"name": "李四", "town": TOWN_B})
    a.sync()
    b.sync()
    # B's laptop cannot see A's people, so it cannot refuse the number itself: the hub flags it.
    people.modify(b.store, second["id"], {"certificate_no": "威体指2026-00001"})
    b.sync()
    conflicts = cluster.hub_query("SELECT * FROM conflicts WHERE record_id = ? AND field = 'certificate_no'",
                                  [second["id"]])
    assert len(conflicts) == 1 and "威体指2026-00001" in conflicts[0]["kept_value"]
    assert cluster.hub_query("SELECT certificate_no FROM people WHERE id = ?", [first["id"]])[0]["certificate_no"] \
        == "威体指2026-00001"


def test_a_verification_made_on_a_laptop_reaches_the_hub(cluster):
    a = cluster.add_node(TOWN_A)
    person = a.query("SELECT id FROM people WHERE status = 'active' LIMIT 1")[0]
    people.verify(a.store, person["id"], actor="张村核实员")
    a.sync()
    at_hub = cluster.hub_query("SELECT verified_by, verified_at FROM people WHERE id = ?", [person["id"]])[0]
    assert at_hub["verified_by"] == "张村核实员" and at_hub["verified_at"]


def test_the_duplicates_page_sets_both_registrations_side_by_side_with_the_laptop_that_entered_each(cluster):
    a = cluster.add_node(TOWN_A, name="张村镇办公室", prepare=_register(TOWN_A, "13800000001"))
    b = cluster.add_node(TOWN_B, name="羊亭镇办公室")
    _register(TOWN_B, "13900000002")(b.store)
    a.sync(), b.sync()
    admin = WebClient(cluster.hub.url)
    assert admin.login("admin").ok
    page = admin.get("/hub/people/duplicates?lang=zh_CN").text
    assert "同一身份证号" in page and ID_NUMBER not in page and "13800000001" not in page
    records = re.findall(r'<article class="dup-record" data-person="\w+">(.*?)</article>', page, re.DOTALL)
    fields = [dict(re.findall(r'data-field="(\w+)">\s*<dt>.*?</dt>\s*<dd>([^<]*)</dd>', record, re.DOTALL))
              for record in records]
    assert [(f["id_number_masked"], f["town"], f["phone"], f["origin"]) for f in fields] == [
        ("1101**********002X", "张村镇", "138****0001", "张村镇办公室"),
        ("1101**********002X", "羊亭镇", "139****0002", "羊亭镇办公室")]
    differing = set(re.findall(r'<div class="dup-field differs" data-field="(\w+)">', page))
    assert {"town", "phone", "origin"} <= differing and not differing & {"name", "id_number_masked"}
    buttons = re.findall(r"<button[^>]*>(保留登记[^<]+)</button>", page)
    assert [re.findall(r"登记(\w)（(\w+)，", button) for button in buttons] == [
        [("A", "张村镇"), ("B", "羊亭镇")], [("B", "羊亭镇"), ("A", "张村镇")]]      # the one kept comes first
