"""Town laptops go without the rollup triggers; asking for rollups rebuilds them from the facts."""

from __future__ import annotations

from fieldsync.records import checkins, people, sessions
from fieldsync.reports import rollup


def _triggers(store) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger'"
                           " AND name LIKE 'rollup!_%' ESCAPE '!'")["n"]


def _counted(store, session_id) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM rollup_attendance WHERE session_id = ?", [session_id])["n"]


def test_a_laptop_skips_rollups_while_scanning_and_rebuilds_them_when_asked(store):
    training = next(s for s in sessions.listing(store) if s["kind"] == "training")
    roster = people.search(store, limit=6)
    rollup.keep_live(store, False)
    assert _triggers(store) == 0
    for person in roster[:5]:
        checkins.check_in(store, session_id=training["id"], person_id=person["id"])
    assert _counted(store, training["id"]) == 0  # nobody kept them: no per-scan cost

    rollup.keep_live(store, True)
    assert _triggers(store) > 0 and _counted(store, training["id"]) == 5
    checkins.check_in(store, session_id=training["id"], person_id=roster[5]["id"])
    assert _counted(store, training["id"]) == 6  # live again: counted as it happens
    rollup.keep_live(store, True)  # already live: nothing rebuilt, nothing lost
    assert _counted(store, training["id"]) == 6
