"""Field-level last-writer-wins with base versions (DESIGN §4 failure case 6)."""

from __future__ import annotations

import json

from fieldsync.parts import open_store
from fieldsync.records import mutable
from fieldsync.store import HLC


def _edit(store, clock, fields, action="modify"):
    return store.write(lambda db: mutable.save_local(db, clock, "sessions", "s1", fields, actor="t", action=action))


def _change(store, n=-1):
    return json.loads(store.query("SELECT payload FROM changes ORDER BY seq")[n]["payload"])


def test_local_edit_sends_only_changed_fields_with_their_base(tmp_path):
    with open_store(tmp_path / "a.db") as store:
        clock = store.hlc
        _edit(store, clock, {"kind": "training", "title": "A", "status": "active"}, "create")
        created = _change(store)
        _edit(store, clock, {"title": "B", "kind": "training"})
        change = _change(store)
        assert set(change["fields"]) == {"title"}
        assert change["base"]["title"] == created["hlcs"]["title"]
        _edit(store, clock, {"title": "B"})  # nothing changes: nothing written
        assert store.query_one("SELECT COUNT(*) AS n FROM changes")["n"] == 2


def test_remote_wins_only_with_a_newer_hlc_and_reports_concurrency(tmp_path):
    with open_store(tmp_path / "hub.db") as hub, open_store(tmp_path / "node.db") as node:
        node_clock = HLC("node", wall=lambda: 2_000)
        hub_clock = HLC("hub", wall=lambda: 1_000)
        _edit(node, node_clock, {"kind": "training", "title": "A", "status": "active"}, "create")
        created = _change(node)
        hub.write(lambda db: mutable.apply_remote(db, "sessions", "s1", created["fields"], created["hlcs"],
                                                  created["base"], origin="node"))
        # both edit title from the same base; the hub's clock is behind
        _edit(hub, hub_clock, {"title": "hub edit"})
        _edit(node, node_clock, {"title": "node edit"})
        change = _change(node)
        outcomes = hub.write(lambda db: mutable.apply_remote(
            db, "sessions", "s1", change["fields"], change["hlcs"], change["base"], origin="node"))
        (title,) = outcomes
        assert title.applied and title.concurrent and title.local_value == "hub edit"
        assert hub.query_one("SELECT title FROM sessions")["title"] == "node edit"
        # an old change arriving late loses and does not overwrite
        late = hub.write(lambda db: mutable.apply_remote(
            db, "sessions", "s1", {"title": "stale"}, {"title": created["hlcs"]["title"]}, {}, origin="x"))
        assert not late[0].applied
        assert hub.query_one("SELECT title FROM sessions")["title"] == "node edit"


def test_fast_forward_is_not_a_conflict(tmp_path):
    with open_store(tmp_path / "hub.db") as hub, open_store(tmp_path / "node.db") as node:
        _edit(node, node.hlc, {"kind": "training", "title": "A", "status": "active"}, "create")
        c = _change(node)
        hub.write(lambda db: mutable.apply_remote(db, "sessions", "s1", c["fields"], c["hlcs"], c["base"], origin="n"))
        _edit(node, node.hlc, {"title": "B"})
        c = _change(node)
        (title,) = hub.write(lambda db: mutable.apply_remote(db, "sessions", "s1", c["fields"], c["hlcs"], c["base"], origin="n"))
        assert title.applied and not title.concurrent


def test_id_number_ciphertext_stays_out_of_the_outbox(store):
    from fieldsync.records import people

    person = people.register(store, {"name": "李四", "town": "371002100000", "id_number": "11010519491231002X"})
    payload = store.query_one("SELECT payload FROM changes WHERE record_id = ?", [person["id"]])["payload"]
    assert "id_number_enc" not in payload and "11010519491231002X" not in payload
    assert "1101**********002X" in payload
    row = store.query_one("SELECT id_number_enc FROM people WHERE id = ?", [person["id"]])
    assert row["id_number_enc"] and "11010519491231002X" not in row["id_number_enc"]
