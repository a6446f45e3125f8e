"""The hub's pages, in process (tests/server/conftest.py `hub`), on the hand-computed city (tests/reports/fixture.py)."""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest

from fieldsync.parts import open_store
from tests.reports import fixture
from tests.support import field_error


@pytest.fixture(scope="module")
def staff(hub):
    return hub.signed_in("staff", fixture.PASSWORD)


@pytest.fixture(scope="module")
def admin(hub):
    return hub.signed_in("admin", fixture.PASSWORD)


def _checkin_rows(hub) -> list[tuple]:
    with open_store(hub.instance / "fieldsync.db") as store:
        return sorted(map(tuple, store.db.execute("SELECT * FROM checkins").fetchall()))


def test_dashboard_shows_the_figures_and_draws_charts_locally(hub, staff):
    page = staff.get("/hub/?year=2024")
    assert page.status_code == 200
    assert "4 / 7" in page.text                          # villages covered
    assert "6 / 200" in page.text and "3 / 300" in page.text and "3 / 100" in page.text
    data = json.loads(re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>',
                                page.text, re.DOTALL).group(1))
    assert {t["label"]: t["trained"] for t in data["towns"]} == {"张村镇": 3, "羊亭镇": 0, "石岛镇": 3}
    assert data["densityTarget"] == 4.5 and len(data["themeDays"]) == 6
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert all(src.startswith("/static/") for src in scripts)
    assert all(staff.get(src).status_code == 200 for src in scripts)
    county = staff.get(f"/hub/?year=2024&county={fixture.C1}&kind=training")
    assert county.status_code == 200 and "2 / 5" in county.text


def test_bad_filters_are_a_4xx_page(staff):
    assert staff.get("/hub/?year=abc").status_code == 422
    assert staff.get(f"/hub/?county={fixture.C1}&town={fixture.T3}").status_code == 422
    assert staff.get("/hub/?county=379999").status_code == 404


def test_statistics_download_over_http(staff):
    answer = staff.get(f"/hub/reports/statistics.xlsx?year=2024&unit={fixture.T1}")
    assert answer.status_code == 200
    assert 'filename="statistics-371002100000-2024.xlsx"' in answer.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    assert sheet["A2"].value == "单位名称（盖章）：张村镇" and sheet.max_row == 3 + 3
    csv_answer = staff.get("/hub/reports/table.csv?table=checkins")
    scans = sum(len(s) for _, _, s in fixture.SCANS)
    assert csv_answer.status_code == 200 and csv_answer.text.count("\n") == 1 + scans == 30
    assert staff.get("/hub/reports/kpi.pdf").status_code == 422


def test_reports_page_lists_the_registry_and_escapes_titles(hub, staff):
    from fieldsync.records import sessions

    with open_store(hub.instance / "fieldsync.db") as store:
        sessions.create(store, {**fixture.SESSIONS["s3"], "title": "<script>alert(1)</script>"})
    page = staff.get("/hub/reports")
    assert page.status_code == 200
    for name in ("statistics", "attendance", "coverage", "kpi", "volunteer-hours", "table"):
        assert f'id="report-{name}"' in page.text
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text


def test_trainer_and_strangers_are_kept_out(hub):
    trainer, stranger = hub.signed_in("trainer", fixture.PASSWORD), hub.client()
    for path in ("/hub/", "/hub/reports", "/hub/people", "/hub/volunteers"):
        assert trainer.get(path).status_code == 403, path
        answer = stranger.get(path, follow_redirects=False)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_staff_cannot_reach_admin_actions(hub, staff):
    ids = hub.ids
    assert staff.get("/hub/people/duplicates").status_code == 403
    before = _checkin_rows(hub)
    assert staff.form("/hub/people/merge", {"kept": ids["p1"], "merged": ids["p8"]}).status_code == 403
    assert staff.form(f"/hub/people/{ids['p2']}/cancel", {}).status_code == 403
    assert _checkin_rows(hub) == before
    page = staff.get(f"/hub/people/{ids['p2']}")
    assert page.status_code == 200 and "/cancel" not in page.text


def test_admin_merges_duplicates_and_every_checkin_stays(hub, admin):
    ids = hub.ids
    page = admin.get("/hub/people/duplicates")
    assert page.status_code == 200 and ids["p1"] in page.text and ids["p8"] in page.text
    before = _checkin_rows(hub)
    merged = admin.form("/hub/people/merge", {"kept": ids["p1"], "merged": ids["p8"]}, follow_redirects=False)
    assert merged.status_code == 302 and merged.headers["Location"].endswith(f"/hub/people/{ids['p1']}")
    assert _checkin_rows(hub) == before
    assert admin.form("/hub/people/merge", {"kept": ids["p1"], "merged": ids["p8"]}).status_code == 409
    board = admin.get("/hub/volunteers?year=2024").text
    assert board.count("王芳") == 1 and "2.5" in board
    # Each record names the other by name and town, not by a bare record id.
    kept_page, merged_page = admin.get(f"/hub/people/{ids['p1']}").text, admin.get(f"/hub/people/{ids['p8']}").text
    assert f">{ids['p8']}<" not in kept_page and f">{ids['p1']}<" not in merged_page
    assert "王芳（" in kept_page.split("合并进来的重复记录")[1][:200]
    assert "王芳（" in merged_page.split("已合并到")[1][:200]


def test_register_modify_promote_and_cancel_through_the_forms(hub, staff, admin):
    created = staff.form("/hub/people", {"name": "孙丽", "town": fixture.T2, "village": fixture.V22,
                                         "phone": "13600000000", "level": "none"}, follow_redirects=False)
    assert created.status_code == 302
    person_path = created.headers["Location"]
    person_id = person_path.rsplit("/", 1)[-1]
    staff.get(person_path)
    assert staff.form(person_path, {"specialty": "八段锦"}).status_code == 200
    assert staff.form(person_path + "/promote", {"level": "level3", "certificate_no": "SD-3-777"}).status_code == 200
    assert staff.form(person_path + "/promote", {"level": "level3", "certificate_no": "x"}).status_code == 409
    assert staff.form(person_path + "/promote", {"level": "none", "certificate_no": "x"}).status_code == 422
    admin.get(person_path)
    assert admin.form(person_path + "/cancel", {}).status_code == 200
    with open_store(hub.instance / "fieldsync.db") as store:
        row = store.query_one("SELECT specialty, level, certificate_no, status FROM people WHERE id = ?",
                              [person_id])
        actions = [r["action"] for r in store.query(
            "SELECT action FROM history WHERE record_id = ? ORDER BY id", [person_id])]
    assert row == {"specialty": "八段锦", "level": "level3", "certificate_no": "SD-3-777", "status": "cancelled"}
    assert actions == ["register", "modify", "promote", "cancel"]


def test_bad_register_form_names_the_fields(staff):
    staff.get("/hub/people")
    answer = staff.form("/hub/people", {"name": "x<y>", "town": "12", "phone": "123"})
    assert answer.status_code == 422 and "Traceback" not in answer.text
    assert {field: bool(field_error(answer.text, field)) for field in ("name", "town", "phone")} == \
        {"name": True, "town": True, "phone": True}


def test_a_bad_hub_form_comes_back_as_typed_with_each_message_by_its_field(hub, staff):
    staff.get("/hub/people")
    register = staff.form("/hub/people", {"name": "赵敏", "town": fixture.T2, "phone": "123",
                                          "specialty": "太极拳", "certificate_no": "SD-9-1"})
    assert register.status_code == 422
    form = register.text.split('id="register"')[1]
    assert " open>" in form.split("\n")[0]                      # the 注册 form is open again
    assert 'value="赵敏"' in form and 'value="太极拳"' in form and 'value="SD-9-1"' in form
    assert f'<option value="{fixture.T2}" selected>' in form
    phone = form.split('name="phone"')[1].split("</label>")[0]
    assert 'value="123"' in phone and 'class="field-error"' in phone
    person_path = f"/hub/people/{hub.ids['p2']}"
    staff.get(person_path)
    modify = staff.form(person_path, {"name": "李强", "birth_year": "1850", "specialty": "门球"})
    assert modify.status_code == 422
    modify_form = modify.text.split("/promote")[0]
    assert 'value="1850"' in modify_form and 'value="门球"' in modify_form
    assert 'class="field-error"' in modify_form.split('name="birth_year"')[1].split("</label>")[0]
    promote = staff.form(person_path + "/promote", {"level": "level1", "certificate_no": "SD-1-" + "9" * 60})
    assert promote.status_code == 422
    promote_form = promote.text.split("/promote")[1].split("</form>")[0]
    assert '<option value="level1" selected>' in promote_form and "SD-1-999" in promote_form
    assert 'class="field-error"' in promote_form


def test_a_bad_theme_day_form_comes_back_as_typed(admin):
    admin.get("/hub/theme-days/?year=2024")
    bad = admin.form("/hub/theme-days/", {"name": "重阳节登高", "starts_on": "2024-10-11", "ends_on": "2024-10-01"})
    assert bad.status_code == 422
    form = bad.text.split('id="add-theme-day"')[1]
    assert 'value="重阳节登高"' in form and 'value="2024-10-01"' in form
    assert 'class="field-error"' in form.split('name="ends_on"')[1].split("</label>")[0]
    added = admin.form("/hub/theme-days/", {"name": "重阳节登高", "starts_on": "2024-10-11"}, follow_redirects=False)
    assert added.status_code == 302
    day_id = admin.get("/hub/theme-days/?year=2024").text.split('id="theme-day-')[1].split('"')[0]
    changed = admin.form(f"/hub/theme-days/{day_id}", {"name": "", "starts_on": "2024-10-12"})
    assert changed.status_code == 422
    card = changed.text.split(f'id="theme-day-{day_id}"')[1].split("</section>")[0]
    assert 'value="2024-10-12"' in card and 'class="field-error"' in card.split('name="name"')[1].split("</label>")[0]


def test_pairing_and_its_activities_through_the_dashboard(hub, staff):
    town_page = f"/hub/?year=2024&town={fixture.T2}"
    assert 'name="organisation"' in staff.get(town_page).text
    pairings_of_county = staff.get(f"/hub/?year=2024&county={fixture.C1}").text.split('id="pairings"')[1]
    assert 'name="organisation"' not in pairings_of_county                   # a county: choose the town first
    assert f'<option value="{fixture.T2}">' in pairings_of_county
    assert f'<option value="{fixture.T3}">' not in pairings_of_county        # 石岛镇 is another county's
    added = staff.form(town_page.replace("/hub/", "/hub/pairings"), {
        "organisation": hub.ids["o1"], "village": fixture.V21, "since": "2024-03-15"}, follow_redirects=False)
    assert added.status_code == 302 and added.headers["Location"].endswith(f"{town_page}#pairings")
    page = staff.get("/hub/?year=2024")
    pairing_id = re.search(r'<option value="([^"]+)">威海市门球协会 ↔ 羊亭村</option>', page.text).group(1)
    assert f'<option value="{hub.ids["o1"]}">威海市门球协会</option>' in staff.get(town_page).text
    linked = staff.form("/hub/pairings/sessions?year=2024", {"pairing": pairing_id, "session": hub.ids["s4"]})
    assert linked.status_code == 200 and "8月8日全民健身日主题活动" in linked.text
    assert staff.form("/hub/pairings/sessions", {"pairing": "nope", "session": hub.ids["s4"]}).status_code == 404
    assert staff.form("/hub/pairings", {"organisation": hub.ids["o1"], "village": fixture.T2}).status_code == 422
    assert staff.form("/hub/pairings", {"organisation": "no-such", "village": fixture.V22}).status_code == 404
    typed = staff.form(f"/hub/pairings?year=2024&town={fixture.T2}",
                       {"organisation": hub.ids["o2"], "village": fixture.V21, "since": "去年春天"})
    form = typed.text.split('id="add-pairing"')[1].split("</form>")[0]   # open again, as typed
    assert typed.status_code == 422 and form.startswith(" open>") and f'<option value="{hub.ids["o2"]}" selected>' in form
    assert f'<option value="{fixture.V21}" selected>' in form and 'class="field-error"' in form.split('name="since"')[1]


def test_volunteer_history_page(hub, staff):
    page = staff.get(f"/hub/volunteers/{hub.ids['p5']}")
    assert page.status_code == 200
    assert "劳动节全民健身志愿服务" in page.text and "2024-05-01 08:40" in page.text


def test_a_town_node_has_no_hub_pages(signed_in):
    assert signed_in("staff").get("/hub/").status_code == 404
