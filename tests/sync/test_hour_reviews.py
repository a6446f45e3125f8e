"""Reviews of hours travel like every other record (decision 0170): a laptop's review reaches
the hub and counts there, the association's reaches the laptop, and a laptop reviewing
another town's session is refused at the hub."""

from __future__ import annotations

from datetime import datetime, timedelta

from fieldsync.records import checkins, hour_reviews, sessions
from fieldsync.reports import hours, rollup, units
from fieldsync.store import new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change
from tests.sync.conftest import TOWN_A, TOWN_B

YEAR = 2025
CHINA_8AM = datetime.fromisoformat(f"{YEAR}-09-01T08:00:00+08:00")


def _activity(node) -> tuple[str, str]:
    """An ended volunteer activity on the laptop, one person in at 8:00 and out at 9:30."""
    person = node.query("SELECT id FROM people WHERE status = 'active' LIMIT 1")[0]["id"]
    made = sessions.create(node.store, {"kind": "volunteer", "title": "九月健步走", "town": node.town,
                                        "starts_at": f"{YEAR}-09-01T08:00", "hours": 2.0}, actor="test")
    for direction, at in (("in", CHINA_8AM), ("out", CHINA_8AM + timedelta(minutes=90))):
        assert checkins.check_in(node.store, session_id=made["id"], person_id=person, direction=direction,
                                 station="test", scanned_at=at).recorded
    return made["id"], person


def _hub_totals(cluster) -> dict:
    with cluster.hub_store() as hub:
        rollup.current(hub)
        return hours.totals(hub.db, units.resolve(hub.db), YEAR)


def test_a_laptops_review_reaches_the_hub_and_counts_there(cluster):
    a = cluster.add_node(TOWN_A)
    session_id, _ = _activity(a)
    a.sync()
    assert _hub_totals(cluster) == {"volunteers": 0, "hours": 0}   # there, but not reviewed
    a.serve()   # town staff review on the laptop's own pages
    assert "九月健步走" in a.staff.get("/hours/review/").text
    for bad in ({"action": "correct", "hours": "很多", "reason": "x"}, {"action": "reject"}, {"action": "delete"}):
        assert a.staff.form(f"/hours/review/{session_id}", bad).status_code in (400, 422), bad
    typed = a.staff.form(f"/hours/review/{session_id}", {"action": "correct", "hours": "很多", "reason": "签到表有误"})
    correct = typed.text.split('id="correct-hours"')[1].split("</form>")[0]   # the form as typed, the error by it
    assert 'value="签到表有误"' in correct and 'class="field-error"' in correct.split('name="hours"')[1]
    assert a.staff.form(f"/hours/review/{session_id}", {"action": "approve"}).status_code == 200
    a.sync()
    assert _hub_totals(cluster) == {"volunteers": 1, "hours": 1.5}
    # The association corrects it on the hub; the laptop takes the step with its next pull.
    with cluster.hub_store() as hub:
        person = hub.query("SELECT person_id FROM checkins WHERE session_id = ? LIMIT 1", [session_id])[0]["person_id"]
        hour_reviews.review(hub, session_id, "correct", actor="协会", person_id=person, minutes=60, reason="核对签到表")
    assert _hub_totals(cluster)["hours"] == 1.0
    a.sync()
    assert [(r["action"], r["actor"]) for r in a.query(
        "SELECT action, actor FROM hour_reviews WHERE session_id = ? ORDER BY hlc", [session_id])] == [
        ("approve", "staff"), ("correct", "协会")]
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM quarantine")[0]["n"] == 0


def test_a_laptop_reviewing_another_towns_session_is_quarantined(cluster):
    a = cluster.add_node(TOWN_A)
    session_id, _ = _activity(a)
    a.sync()
    b = cluster.add_node(TOWN_B)
    for town in (TOWN_A, TOWN_B):   # the session's own town, or a lie about it
        row = {"id": new_id(), "session_id": session_id, "town": town, "action": "approve", "person_id": None,
               "minutes": None, "reason": None, "actor": "intruder", "created_at": utc_now(),
               "hlc": b.store.hlc.now(), "origin": b.store.hlc.node}

        def forge(db, row=row):
            db["hour_reviews"].insert(row)
            record_change(db, "hour_reviews", row["id"], "upsert", row["hlc"], row)

        b.store.write(forge)
    b.sync()
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM hour_reviews")[0]["n"] == 0
    assert [r["code"] for r in cluster.hub_query(
        "SELECT code FROM quarantine WHERE entity = 'hour_reviews'")] == ["not_your_session"] * 2
    assert _hub_totals(cluster) == {"volunteers": 0, "hours": 0}
