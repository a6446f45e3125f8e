"""注册 / 修改 / 注销 with a history of every change."""

from __future__ import annotations

import pytest

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.records import people
from fieldsync.records.schemas import PersonSchema, load

TOWN, VILLAGE = "371002100000", "371002100201"


def test_register_modify_promote_cancel_restore_are_all_in_the_history(store):
    person = people.register(store, load(PersonSchema(), {
        "name": "赵敏", "town": TOWN, "village": VILLAGE, "phone": "13912345678", "level": "无"}), actor="staff")
    people.modify(store, person["id"], {"specialty": "太极拳"}, actor="staff")
    people.promote(store, person["id"], "level3", "SD26000001", actor="staff")
    people.cancel(store, person["id"], actor="admin")
    with pytest.raises(Conflict):
        people.cancel(store, person["id"])
    people.restore(store, person["id"], actor="admin")
    actions = [h["action"] for h in people.history(store, person["id"])]
    assert actions == ["register", "modify", "promote", "cancel", "restore"]
    promoted = people.history(store, person["id"])[2]
    assert promoted["changes"]["level"] == ["none", "level3"] and promoted["actor"] == "staff"
    assert people.get(store, person["id"])["status"] == "active"


def test_only_a_promotion_is_recorded_as_one_a_corrected_level_is_a_modification(store):
    person = people.register(store, {"name": "周强", "town": TOWN, "level": "level2"}, actor="staff")
    people.modify(store, person["id"], {"level": "level3"}, actor="staff")     # a typo put right: downwards
    people.modify(store, person["id"], {"level": "level1"}, actor="staff")     # and upwards, still no promotion
    with pytest.raises(Conflict):
        people.promote(store, person["id"], "level1", actor="staff")
    changes = [(h["action"], h["changes"].get("level")) for h in people.history(store, person["id"])[1:]]
    assert changes == [("modify", ["level2", "level3"]), ("modify", ["level3", "level1"])]


def test_village_must_belong_to_the_town(store):
    with pytest.raises(ValidationFailed) as err:
        people.register(store, {"name": "钱七", "town": TOWN, "village": "371003100201"})
    assert "village" in err.value.fields


def test_same_id_number_cannot_register_twice(store):
    data = {"name": "孙八", "town": TOWN, "id_number": "11010519491231002X"}
    people.register(store, data)
    with pytest.raises(Conflict) as err:
        people.register(store, {**data, "name": "孙八八"})
    assert err.value.code == "duplicate_person"


def test_register_many_is_all_or_nothing(store):
    before = people.count(store)
    rows = [{"name": "周一", "town": TOWN}, {"name": "周二", "town": TOWN, "village": "999999999999"}]
    with pytest.raises(ValidationFailed):
        people.register_many(store, rows)
    assert people.count(store) == before


def test_search_by_name_part_and_by_last_four_phone_digits(store):
    person = people.register(store, {"name": "欧阳娜娜", "town": TOWN, "phone": "13700001234"})
    assert person["id"] in [p["id"] for p in people.search(store, "阳娜")]
    assert person["id"] in [p["id"] for p in people.search(store, "1234")]
    assert people.masked(person)["phone"] == "137****1234"
