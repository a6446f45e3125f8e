"""The 最美社会体育指导员 selection (decision 0240): a nomination keeps the reviewed record behind it,
results are the association's steps with their history, the chosen list and those put forward to
the province export as XLSX, and only people who consent are ever named in public."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from fieldsync.errors import Conflict, Forbidden, ValidationFailed
from fieldsync.records import awards, checkins, consents, hour_reviews, scope, sessions
from fieldsync.reports import hours, public, registry, units
from tests.reports import fixture

YEAR = 2024


def _walk(city, ids, person="p3") -> str:
    """An ended volunteer activity (not reviewed yet) where the person served 08:00–09:30."""
    starts = datetime(YEAR, 9, 1, 8)
    session = sessions.create(city, fixture._session("volunteer", "九月健步走", fixture.T1, starts, 2.0),
                              actor="staff")
    for direction, minute in (("in", 0), ("out", 90)):
        at = starts.replace(hour=8 + minute // 60, minute=minute % 60, tzinfo=fixture.CHINA)
        assert checkins.check_in(city, session_id=session["id"], person_id=ids[person], direction=direction,
                                 station="test", scanned_at=at).recorded
    return session["id"]


def _rows(city, name: str, params: dict) -> list[list]:
    _, chunks = registry.prepare(city.db, name, "xlsx", params)
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_a_nomination_keeps_the_reviewed_record_and_a_refresh_takes_it_again(city, ids):
    session_id = _walk(city, ids)
    made = awards.nominate(city, ids["p3"], YEAR, "常年带领村民健步走", actor="staff", unit=fixture.T1)
    # s3's half hour is reviewed; the new walk waits for review and does not count yet. Training s1.
    assert (made["hours"], made["activities"], made["trainings"]) == (0.5, 1, 1)
    assert (made["nominated_by"], made["nominator_unit"], made["year"]) == ("staff", fixture.T1, YEAR)
    hour_reviews.review(city, session_id, "approve", actor="association")
    assert awards.get(city.db, made["id"])["hours"] == 0.5          # a snapshot: as it stood when taken
    again = awards.refresh(city, made["id"], hub=True)
    assert (again["hours"], again["activities"]) == (2.0, 2)
    # The same figure the leaderboard (the hub's rollups) gives, though taken from the facts.
    leader = next(p for p in hours.leaderboard(city.db, units.resolve(city.db), YEAR) if p["id"] == ids["p3"])
    assert (leader["hours"], leader["sessions"]) == (again["hours"], again["activities"])


def test_a_nomination_needs_a_reason_and_is_one_per_person_and_year(city, ids):
    with pytest.raises(ValidationFailed):
        awards.nominate(city, ids["p1"], YEAR, "  ", actor="staff", unit=fixture.T1)
    awards.nominate(city, ids["p1"], YEAR, "热心服务", actor="staff", unit=fixture.T1)
    with pytest.raises(Conflict) as raised:
        awards.nominate(city, ids["p1"], YEAR, "再推荐一次", actor="admin", unit=fixture.CITY)
    assert raised.value.code == "already_nominated"


def test_a_town_account_nominates_only_its_own_people_and_cannot_decide(city, ids):
    made = awards.nominate(city, ids["p5"], YEAR, "羊亭镇骨干", actor="admin", unit=fixture.CITY)
    scope.set_units(city, [fixture.T1])
    try:
        with pytest.raises(Forbidden):
            awards.nominate(city, ids["p7"], YEAR, "石岛镇", actor="staff-t1", unit=fixture.T1)
        with pytest.raises(Forbidden) as raised:
            awards.decide(city, made["id"], "selected", None, actor="staff-t1")
        assert raised.value.code == "association_only"
    finally:
        scope.set_units(city, None)
    assert awards.steps(city.db, made["id"]) == []


def test_results_are_steps_and_the_lists_export_as_xlsx(city, ids):
    chosen = awards.nominate(city, ids["p1"], YEAR, "热心服务", actor="staff", unit=fixture.T1)
    forward = awards.nominate(city, ids["p5"], YEAR, "羊亭镇骨干", actor="admin", unit=fixture.CITY)
    passed = awards.nominate(city, ids["p7"], YEAR, "石岛镇", actor="admin", unit=fixture.CITY)
    awards.decide(city, chosen["id"], "selected", None, actor="admin")
    awards.decide(city, forward["id"], "selected", None, actor="admin")
    awards.decide(city, forward["id"], "province", "事迹突出", actor="admin")
    awards.decide(city, passed["id"], "not_selected", "时长不足", actor="admin")
    assert [(s["decision"], s["actor"], s["note"]) for s in awards.steps(city.db, forward["id"])] == [
        ("selected", "admin", None), ("province", "admin", "事迹突出")]
    listed = _rows(city, "awards-chosen", {"year": str(YEAR)})
    assert listed[0][0] == f"{YEAR}年最美社会体育指导员评选结果" and listed[1][0].startswith("单位名称（盖章）：")
    body = {row[1]: row for row in listed[3:]}
    assert set(body) == {"王芳", "陈静"}                       # not the one not selected
    # s4 without a scan-out: estimated, and the list says so beside the association's note
    assert body["陈静"][12:] == ["当选，推荐参加全省交流展示大会", "时长含估算；事迹突出"]
    assert body["王芳"][9:12] == ["张村镇", "staff", "热心服务"]
    assert not any("1380000" in str(cell) for row in listed for cell in row)   # no phone on the list
    province = _rows(city, "awards-province", {"year": str(YEAR)})
    assert [row[1] for row in province[3:]] == ["陈静"]
    town_only = _rows(city, "awards-chosen", {"year": str(YEAR), "unit": fixture.T1})
    assert [row[1] for row in town_only[3:]] == ["王芳"]


def test_only_the_chosen_who_consent_are_named_in_public(city, ids):
    made = awards.nominate(city, ids["p1"], YEAR, "热心服务", actor="staff", unit=fixture.T1)
    awards.decide(city, made["id"], "selected", None, actor="admin")
    assert public.honours(city.db, YEAR) == []                 # chosen, but no consent recorded
    consents.record(city, ids["p1"], "give", given_on=f"{YEAR}-12-01", recorded_by="staff")
    assert public.honours(city.db, YEAR) == [{"name": "王芳", "town": "张村镇", "province": False}]
    consents.record(city, ids["p1"], "withdraw", recorded_by="staff")
    assert public.honours(city.db, YEAR) == []
    assert [c["action"] for c in consents.steps(city.db, ids["p1"])] == ["give", "withdraw"]
    with pytest.raises(ValidationFailed):
        consents.record(city, ids["p1"], "give", given_on="2999-01-01", recorded_by="staff")


def test_a_result_rests_on_the_hubs_own_facts_not_the_figures_a_laptop_sent(city, ids):
    made = awards.nominate(city, ids["p3"], YEAR, "常年带领村民健步走", actor="staff", unit=fixture.T1)
    city.write(lambda db: db.execute("UPDATE nominations SET hours = 99, activities = 40 WHERE id = ?",
                                     [made["id"]]))   # as a stolen laptop might send it: its own town's person
    awards.decide(city, made["id"], "selected", None, actor="admin")
    kept = awards.get(city.db, made["id"])
    assert (kept["hours"], kept["activities"]) == (0.5, 1)
