"""Who may change the roster, per role, on a town laptop and on the hub, over real HTTP.

Staff register, modify and promote everywhere; a town office also cancels (注销) and restores its
own people. On the hub cancelling, restoring and merging duplicates reach every town: admin only,
whichever of the hub's two people pages (/hub/people or /people) the request comes through.
"""

from __future__ import annotations

import pytest

from fieldsync.parts import open_store
from fieldsync.records import people
from tests.backends import copy_instance
from tests.reports import fixture
from tests.support import LiveServer, WebClient

ROLES = ("trainer", "staff", "admin")
RANK = {"trainer": 1, "staff": 2, "admin": 3}
# (where, act): the least role that may do it
LEAST_ROLE = {
    ("node", "register"): "staff", ("node", "modify"): "staff", ("node", "promote"): "staff",
    ("node", "cancel"): "staff", ("node", "restore"): "staff",
    ("hub", "register"): "staff", ("hub", "modify"): "staff", ("hub", "promote"): "staff",
    ("hub", "cancel"): "admin", ("hub", "cancel on the office page"): "admin",
    ("hub", "restore"): "admin", ("hub", "merge"): "admin",
}


@pytest.fixture(scope="module")
def hub(city_template, tmp_path_factory):
    path = copy_instance(city_template[0], tmp_path_factory.mktemp("hub-roles") / "hub")
    with LiveServer(path, hub=True) as server:
        server.clients = {}
        for role in ROLES:
            server.clients[role] = WebClient(server.url)
            assert server.clients[role].login(role, fixture.PASSWORD).ok
        yield server


def _person(instance, town: str, name: str, *, cancelled: bool = False, phone: str | None = None) -> str:
    with open_store(instance / "fieldsync.db") as store:
        person = people.register(store, {"name": name, "town": town, "phone": phone}, actor="test")
        if cancelled:
            people.cancel(store, person["id"], actor="test")
        return person["id"]


def _row(instance, person_id: str) -> dict | None:
    with open_store(instance / "fieldsync.db") as store:
        return store.query_one("SELECT name, level, status FROM people WHERE id = ?", [person_id])


def _names(instance, name: str) -> int:
    with open_store(instance / "fieldsync.db") as store:
        return store.query_one("SELECT COUNT(*) AS n FROM people WHERE name = ?", [name])["n"]


def acts(where: str, instance, town: str, role: str) -> dict:
    """Each act: (method path, form, what the database shows when it was done)."""
    tag = f"{where}-{role}"
    target = _person(instance, town, f"甲{tag}")
    cancelled = _person(instance, town, f"乙{tag}", cancelled=True)
    office = "" if where == "node" else "/hub"
    found = {
        "register": ("/hub/people" if where == "hub" else "/people/new",
                     {"name": f"丙{tag}", "town": town}, lambda: _names(instance, f"丙{tag}") == 1),
        "modify": ((f"/hub/people/{target}" if where == "hub" else f"/people/{target}/edit"),
                   {"name": f"丁{tag}", "town": town}, lambda: _row(instance, target)["name"] == f"丁{tag}"),
        "promote": (f"{office}/people/{target}/promote", {"level": "level3", "certificate_no": f"SD-3-{tag}"},
                    lambda: _row(instance, target)["level"] == "level3"),
        "restore": (f"/people/{cancelled}/restore", {},
                    lambda: _row(instance, cancelled)["status"] == "active"),
    }
    victim = _person(instance, town, f"戊{tag}")
    if where == "node":
        found["cancel"] = (f"/people/{victim}/cancel", {}, lambda: _row(instance, victim)["status"] == "cancelled")
        return found
    other = _person(instance, town, f"己{tag}")
    found["cancel"] = (f"/hub/people/{victim}/cancel", {}, lambda: _row(instance, victim)["status"] == "cancelled")
    found["cancel on the office page"] = (f"/people/{other}/cancel", {},
                                          lambda: _row(instance, other)["status"] == "cancelled")
    kept = _person(instance, town, f"庚{tag}", phone="13900000088")
    duplicate = _person(instance, fixture.T3, f"庚{tag}", phone="13900000088")
    found["merge"] = ("/hub/people/merge", {"kept": kept, "merged": duplicate},
                      lambda: _row(instance, duplicate)["status"] == "cancelled")
    return found


def check(where: str, client: WebClient, role: str, found: dict) -> None:
    for act, (path, form, done) in found.items():
        allowed = RANK[role] >= RANK[LEAST_ROLE[(where, act)]]
        answer = client.form(path, form, allow_redirects=False)
        if allowed:
            assert answer.status_code in (302, 303), (where, role, act, answer.status_code, answer.text[:300])
            assert done(), (where, role, act)
        else:
            assert answer.status_code == 403, (where, role, act, answer.status_code)
            assert not done(), (where, role, act)
    assert {act for (place, act) in LEAST_ROLE if place == where} == set(found)


@pytest.mark.parametrize("role", ROLES)
def test_on_the_hub_cancel_restore_and_merge_take_an_admin(hub, role):
    client = hub.clients[role]
    client.get("/hub/people")   # a fresh CSRF token for this client
    check("hub", client, role, acts("hub", hub.instance, fixture.T1, role))


@pytest.mark.parametrize("role", ROLES)
def test_a_town_office_cancels_and_restores_its_own_people(live_node, node_instance, role):
    client = WebClient(live_node.url)
    assert client.login(role).ok
    check("node", client, role, acts("node", node_instance, "371002100000", role))


def test_the_hub_offers_staff_only_what_they_may_do(hub):
    person = _person(hub.instance, fixture.T1, "辛")
    for role, offered in (("staff", False), ("admin", True)):
        client = hub.clients[role]
        assert (f"/hub/people/{person}/cancel" in client.get(f"/hub/people/{person}").text) is offered
        assert (f"/people/{person}/cancel" in client.get(f"/people/{person}").text) is offered
        assert ("/hub/people/duplicates" in client.get("/hub/people").text) is offered
        assert (f"/people/{person}/revoke-badge" in client.get(f"/people/{person}").text)
    page = hub.clients["staff"].get(f"/people/{person}/cancel?lang=en")
    assert page.status_code == 403 and "only an admin" in page.text


def test_a_town_office_offers_staff_the_cancel_button(live_node, live_staff, node_instance):
    person = _person(node_instance, "371002100000", "壬")
    assert f"/people/{person}/cancel" in live_staff.get(f"/people/{person}").text


def test_the_hub_api_refuses_staff_a_cancellation_too(hub):
    person = _person(hub.instance, fixture.T1, "癸")
    staff = hub.clients["staff"]
    staff.get("/hub/people")
    answer = staff.post(f"/api/v1/people/{person}/cancel")
    assert answer.status_code == 403 and _row(hub.instance, person)["status"] == "active"
