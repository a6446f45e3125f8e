"""A masked phone stays masked: callers shown masked numbers search by the whole number only.

With a suffix search, a trainer or a station reads a masked 138****1234 back in
about 16 requests: try the last five digits' first unknown digit ten ways, then
the next. Staff and admins, who see full numbers anyway, keep the suffix search.
"""

from __future__ import annotations

import pytest
import requests

from fieldsync.parts import open_store
from fieldsync.records import people, stations
from tests.support import LiveServer, WebClient


@pytest.fixture
def scene(node_instance):
    """Someone with a known phone, a station token, and the server running."""
    with open_store(node_instance / "fieldsync.db") as store:
        person = people.register(store, {"name": "隐私测试", "town": "371002100000", "phone": "13912345678"})
        _, token = stations.create(store, "门口")
    with LiveServer(node_instance) as server:
        yield server, person, token


def search(server, who, q: str) -> requests.Response:
    if isinstance(who, WebClient):
        return who.get("/api/v1/people", params={"q": q})
    return requests.get(server.url + "/api/v1/people", params={"q": q}, timeout=10,
                        headers={"Authorization": f"Bearer {who}"})


def callers(server, token) -> dict:
    trainer = WebClient(server.url)
    assert trainer.login("trainer").ok
    return {"trainer": trainer, "station": token}


@pytest.mark.parametrize("caller", ["trainer", "station"])
def test_a_masked_caller_cannot_read_a_phone_back_by_its_last_digits(scene, caller):
    server, person, token = scene
    who = callers(server, token)[caller]
    for suffix in ("8", "78", "5678", "345678", "2345678", "3912345678"):
        answer = search(server, who, suffix)
        assert answer.status_code == 422, (suffix, answer.text[:200])
        assert answer.json()["error"]["code"] == "whole_number_only"
    whole = search(server, who, "13912345678")
    assert whole.status_code == 200
    assert [p["id"] for p in whole.json()["people"]] == [person["id"]]
    assert whole.json()["people"][0]["phone"] == "139****5678"
    assert search(server, who, "隐私").json()["people"][0]["phone"] == "139****5678", "names still search"


def test_staff_who_see_full_numbers_keep_the_suffix_search(scene):
    server, person, _ = scene
    staff = WebClient(server.url)
    assert staff.login("staff").ok
    found = search(server, staff, "45678").json()["people"]
    assert person["id"] in [p["id"] for p in found]
