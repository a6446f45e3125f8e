"""Any interleaving of edits (on two laptops and the hub) and syncs converges to one state everywhere."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import WebClient
from tests.sync.conftest import TOWN_A

VALUES = {"phone": ["13800000001", "13900000002", None],
          "specialty": ["门球", "太极拳", "八段锦"],
          "level": ["none", "level3", "level2"]}
PLACES = ("a", "b", "hub")

edit = st.tuples(st.just("edit"), st.sampled_from(PLACES), st.sampled_from(sorted(VALUES)), st.integers(0, 2))
sync = st.tuples(st.just("sync"), st.sampled_from(("a", "b")), st.just(""), st.just(0))
histories = st.lists(st.one_of(edit, sync), min_size=1, max_size=8)


def test_concurrent_edits_and_syncs_converge_everywhere(cluster):
    nodes = {"a": cluster.add_node(TOWN_A, name="a"), "b": cluster.add_node(TOWN_A, name="b")}
    for laptop in nodes.values():
        laptop.sync()
    for laptop in nodes.values():
        laptop.serve()
    clients = {name: laptop.staff for name, laptop in nodes.items()}
    clients["hub"] = WebClient(cluster.hub.url)
    assert clients["hub"].login("staff").ok
    people = iter(r["id"] for r in cluster.hub_query("SELECT id FROM people ORDER BY id"))

    def state(where: str, person: str) -> tuple:
        row = clients[where].get(f"/api/v1/people/{person}").json()
        return tuple(row[field] for field in sorted(VALUES))

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(histories)
    def converges(history):
        person = next(people)                 # each example edits someone nobody touched yet
        for op, where, field, choice in history:
            if op == "edit":
                answer = clients[where].patch(f"/api/v1/people/{person}", json={field: VALUES[field][choice]})
                assert answer.ok, answer.text
            else:
                nodes[where].sync()
        for name in ("a", "b", "a"):
            nodes[name].sync()
        states = {where: state(where, person) for where in PLACES}
        assert len(set(states.values())) == 1, states

    converges()
