"""The staff pages through a real `fieldsync serve` process: forms, roles, CSRF, escaping."""

from __future__ import annotations

import io
import re
import shutil

import openpyxl
import pytest

from fieldsync.parts import open_store
from fieldsync.records import badges, mutable, people, sessions
from fieldsync.store import new_id
from tests.support import AppClient, field_error, in_process

TOWN, VILLAGE = "371002100000", "371002100201"
PERSON = {"name": "", "gender": "", "birth_year": "", "phone": "", "id_number": "", "town": TOWN,
          "village": "", "level": "none", "specialty": "", "certificate_no": "", "registered_at": ""}
SESSION = {"kind": "volunteer", "title": "", "organizer": "张村镇文体站", "summary": "健步走，\n全镇志愿者参加。",
           "mode": "offline", "starts_at": "2026-06-01T09:00", "ends_at": "2026-06-01T11:30", "town": TOWN,
           "village": "", "venue": "文化广场", "contact_name": "刘老师", "contact_phone": "0631-5212345",
           "notes": "自带水杯", "hours": "2.5"}


@pytest.fixture(scope="module")
def node(demo_template, tmp_path_factory):
    """One app for the module, in process; each test makes people and sessions of its own."""
    instance = tmp_path_factory.mktemp("admin-pages") / "node"
    shutil.copytree(demo_template, instance)
    with in_process(instance) as site:
        yield site


def _signed_in(node, username: str) -> AppClient:
    return node.signed_in(username)


def _flash(page) -> str:
    found = re.search(r'<p class="flash ok"[^>]*>([^<]*)</p>', page.text)
    return found.group(1) if found else ""


def _people_named(client, name: str) -> list[dict]:
    return [p for p in client.get(f"/api/v1/people?q={name}&status=all").json["people"] if p["name"] == name]


def _register(client, **values) -> str:
    answer = client.form("/people/new", {**PERSON, **values}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"].rsplit("/", 1)[-1]


def test_register_modify_promote_cancel_restore_with_history(node):
    office = _signed_in(node, "staff")
    assert "注册" in office.get("/people/new").text
    person_id = _register(office, name="张三丰", phone="13900001234", village=VILLAGE, specialty="太极拳")
    page = office.get(f"/people/{person_id}")
    assert "张三丰" in _flash(page) and "13900001234" in page.text

    edited = office.form(f"/people/{person_id}/edit", {**PERSON, "name": "张三丰", "phone": "13900005678",
                                                      "village": VILLAGE, "specialty": "八段锦"})
    assert edited.status_code == 200 and "13900005678" in edited.text and "八段锦" in edited.text

    refused = office.form(f"/people/{person_id}/promote", {"level": "level3", "certificate_no": ""})
    assert refused.status_code == 422 and field_error(refused.text, "certificate_no")
    assert re.search(r'<option value="level3" selected>', refused.text)
    office.form(f"/people/{person_id}/promote", {"level": "level3", "certificate_no": "SD2026-001"})

    confirm = office.get(f"/people/{person_id}/cancel")
    assert confirm.status_code == 200 and "张三丰" in confirm.text and 'method="post"' in confirm.text
    assert "注销" in _flash(office.form(f"/people/{person_id}/cancel", {}))
    assert people_status(office, person_id) == "cancelled"
    office.form(f"/people/{person_id}/restore", {})
    assert people_status(office, person_id) == "active"

    history = office.get(f"/people/{person_id}").text.split("<table class=\"history\">")[1]
    actions = re.findall(r"<td[^>]*>(注册|修改|晋级|注销|恢复)</td>", history)
    assert actions == ["恢复", "注销", "晋级", "修改", "注册"]       # newest first
    assert "三级" in history and "SD2026-001" in history and "梨林村" in history


def test_the_promote_page_only_raises_an_active_person_with_a_certificate_of_their_own(node):
    office = _signed_in(node, "staff")
    first = _register(office, name="孙立", certificate_no="SD2026-900")
    person_id = _register(office, name="孙明")
    taken = office.form(f"/people/{person_id}/promote", {"level": "level3", "certificate_no": "SD2026-900"})
    assert taken.status_code == 409 and "证书编号 SD2026-900 已属于 孙立（张村镇）" in field_error(taken.text, "certificate_no")
    office.form(f"/people/{person_id}/promote", {"level": "level2", "certificate_no": "SD2026-901"})
    down = office.form(f"/people/{person_id}/promote", {"level": "none", "certificate_no": "x"})
    assert down.status_code == 422
    lower = office.form(f"/people/{person_id}/promote", {"level": "level3", "certificate_no": "SD2026-902"})
    assert lower.status_code == 409
    office.form(f"/people/{first}/cancel", {})
    cancelled = office.form(f"/people/{first}/promote", {"level": "level3", "certificate_no": "SD2026-903"})
    assert cancelled.status_code == 409 and "cancelled" in cancelled.text
    levels = {p["id"]: p["level"] for p in _people_named(office, "孙立") + _people_named(office, "孙明")}
    assert levels == {first: "none", person_id: "level2"}


def test_a_person_is_marked_verified_on_their_page(node):
    office = _signed_in(node, "staff")
    person_id = _register(office, name="周敏")
    assert 'id="verification"' in office.get(f"/people/{person_id}").text
    page = office.form(f"/people/{person_id}/verify", {})
    assert page.status_code == 200 and "周敏" in _flash(page)
    person = office.get(f"/api/v1/people/{person_id}").json
    assert person["verified_by"] == "staff" and person["verified_at"]


def people_status(client, person_id: str) -> str:
    return client.get(f"/api/v1/people/{person_id}").json["status"]


def test_form_errors_sit_next_to_their_fields_and_values_stay(node):
    office = _signed_in(node, "staff")
    answer = office.form("/people/new", {**PERSON, "name": "李四光", "phone": "12345",
                                         "id_number": "110105194912310021", "birth_year": "1850"})
    assert answer.status_code == 422
    assert "不是手机号码" in field_error(answer.text, "phone") and "校验位" in field_error(answer.text, "id_number")
    assert field_error(answer.text, "birth_year") and not field_error(answer.text, "name")
    assert 'value="李四光"' in answer.text and 'value="12345"' in answer.text
    assert _people_named(office, "李四光") == []

    _register(office, name="王五", id_number="11010519491231002X")
    again = office.form("/people/new", {**PERSON, "name": "王五五", "id_number": "11010519491231002X"})
    assert again.status_code == 409 and field_error(again.text, "id_number")


def test_sessions_create_edit_cancel_with_every_form_field(node):
    office = _signed_in(node, "staff")
    late = office.form("/sessions/new", {**SESSION, "title": "健步走", "ends_at": "2026-06-01T08:00"})
    assert late.status_code == 422 and field_error(late.text, "ends_at") and 'value="健步走"' in late.text

    created = office.form("/sessions/new", {**SESSION, "title": "全民健身日健步走"}, follow_redirects=False)
    assert created.status_code == 302
    session_id = created.headers["Location"].rsplit("/", 1)[-1]
    page = office.get(f"/sessions/{session_id}").text
    for shown in ("全民健身日健步走", "张村镇文体站", "健步走，\n全镇志愿者参加。", "线下", "刘老师", "0631-5212345",
                  "自带水杯", "2.5", "文化广场", "志愿服务"):
        assert shown in page, shown

    edit_form = office.get(f"/sessions/{session_id}/edit").text
    assert 'value="2026-06-01T09:00"' in edit_form and 'value="0631-5212345"' in edit_form
    assert "国民体质监测" in edit_form  # forms to attach are offered by title
    unknown = office.form(f"/sessions/{session_id}/edit", {**SESSION, "title": "健步走", "form_id": "no_such_form"})
    assert unknown.status_code == 422 and field_error(unknown.text, "form_id")
    office.form(f"/sessions/{session_id}/edit", {**SESSION, "title": "全民健身日健步走（改期）", "hours": "3",
                                                  "form_id": "fitness_monitoring"})
    saved = office.get(f"/api/v1/sessions/{session_id}").json
    assert saved["hours"] == 3.0 and saved["form_id"] == "fitness_monitoring"
    office.form(f"/sessions/{session_id}/edit", {**SESSION, "title": "全民健身日健步走（改期）", "hours": "3"})
    assert office.get(f"/api/v1/sessions/{session_id}").json["form_id"] is None

    assert office.get(f"/sessions/{session_id}/cancel").status_code == 200
    office.form(f"/sessions/{session_id}/cancel", {})
    assert office.get(f"/api/v1/sessions/{session_id}").json["status"] == "cancelled"
    listed = office.get("/sessions").text
    assert "全民健身日健步走（改期）" in listed
    assert "全民健身日健步走（改期）" not in office.get("/sessions?include_cancelled=false").text


def test_roster_import_page_reports_every_bad_row_and_imports_nothing(node):
    office = _signed_in(node, "staff")
    bad = ("姓名,手机号码,村\n赵一,13911110001,梨林村\n赵二,1391111,梨林村\n赵三,13911110003,梨林村\n"
           "赵四,13911110004,没有这个村\n").encode()
    answer = office.form("/people/import", {"roster": (io.BytesIO(bad), "名单.csv", "text/csv")})
    assert answer.status_code == 422
    rows = re.findall(r"<td[^>]*>(第\d+行)</td><td[^>]*>([^<]*)</td>", answer.text)
    assert rows == [("第3行", "手机号码"), ("第5行", "村")]
    assert _people_named(office, "赵一") == [] and _people_named(office, "赵三") == []

    good = bad.replace(b"1391111,", b"13911110002,").replace("没有这个村".encode(), "泉埠村".encode())
    checked = office.form("/people/import", {"dry_run": "1", "roster": (io.BytesIO(good), "名单.csv", "text/csv")})
    assert checked.status_code == 200 and _people_named(office, "赵一") == []
    imported = office.form("/people/import", {"roster": (io.BytesIO(good), "名单.csv", "text/csv")})
    assert imported.request.path.endswith("/people") and "4" in _flash(imported)
    assert len(_people_named(office, "赵四")) == 1
    nothing = office.form("/people/import", {})
    assert nothing.status_code == 422 and 'class="flash error"' in nothing.text
    damaged = office.form("/people/import", {"roster": (io.BytesIO(b"PK\x03\x04junk"), "名单.xlsx", "application/zip")})
    assert damaged.status_code == 400 and "Excel" in damaged.text


def test_exports_are_masked_unless_an_admin_asks_and_that_is_logged(node):
    office, admin = _signed_in(node, "staff"), _signed_in(node, "admin")
    _register(office, name="钱导出", phone="13722223333", village=VILLAGE)
    masked = office.get("/people/export.xlsx?q=钱导出")
    assert masked.status_code == 200 and "attachment" in masked.headers["Content-Disposition"]
    assert masked.headers["Cache-Control"] == "no-store"
    row = list(openpyxl.load_workbook(io.BytesIO(masked.data)).active.iter_rows(values_only=True))[3]
    assert row[0] == "钱导出" and "137****3333" in row
    assert office.get("/people/export.xlsx?q=钱导出&full=1").status_code == 403
    full = admin.get("/people/export.csv?q=钱导出&full=1")
    assert full.status_code == 200 and "13722223333" in full.data.decode("utf-8-sig")
    log = admin.get("/people/import").text
    assert re.search(r"admin</span> · 1 [^·]* · csv · <strong>", log)


def test_trainers_get_403_on_every_staff_page_and_staff_on_accounts(node):
    office, trainer = _signed_in(node, "staff"), _signed_in(node, "trainer")
    person_id = _register(office, name="孙权限")
    session_id = next(s["id"] for s in office.get("/api/v1/sessions").json["sessions"])
    pages = ["/people", "/people/new", f"/people/{person_id}", f"/people/{person_id}/edit",
             f"/people/{person_id}/cancel", f"/people/{person_id}/reissue-badge", "/sessions", "/sessions/new",
             f"/sessions/{session_id}", f"/sessions/{session_id}/edit", f"/sessions/{session_id}/cancel",
             "/badges", "/people/import", "/people/export.csv", "/users"]
    for path in pages:
        assert trainer.get(path).status_code == 403, path
    posts = ["/people/new", f"/people/{person_id}/edit", f"/people/{person_id}/promote",
             f"/people/{person_id}/cancel", "/sessions/new", f"/sessions/{session_id}/cancel", "/people/import",
             "/users", "/users/staff/password", "/users/staff/disable"]
    for path in posts:
        assert trainer.form(path, {"name": "x"}).status_code == 403, path
    assert people_status(office, person_id) == "active"
    assert office.get("/users").status_code == 403 and office.form("/users/trainer/disable", {}).status_code == 403
    anonymous = node.client().get("/people", follow_redirects=False)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_form_without_its_csrf_token_is_refused(node):
    office = _signed_in(node, "staff")
    for token in (None, "forged"):
        data = {**PERSON, "name": "周无令"} | ({"csrf_token": token} if token else {})
        answer = office.post("/people/new", data=data, headers={"X-CSRF-Token": ""})
        assert answer.status_code == 403 and "text/html" in answer.headers["Content-Type"]
    assert _people_named(office, "周无令") == []


def test_accounts_add_reset_disable(node):
    admin = _signed_in(node, "admin")
    short = admin.form("/users", {"username": "clerk2", "display_name": "文员", "role": "staff", "password": "short"})
    assert short.status_code == 422 and field_error(short.text, "password") and 'value="clerk2"' in short.text
    assert 'value="short"' not in short.text
    admin.form("/users", {"username": "clerk2", "display_name": "文员", "role": "staff", "password": "first-pass"})
    assert node.client().login("clerk2", "first-pass").status_code in (200, 302)
    admin.form("/users/clerk2/password", {"password": "second-pass"})
    assert node.client().login("clerk2", "first-pass").status_code == 401
    clerk = node.client()
    clerk.login("clerk2", "second-pass")
    assert clerk.get("/people").status_code == 200
    admin.form("/users/clerk2/disable", {})
    assert clerk.get("/people", follow_redirects=False).status_code == 302      # signed out at once
    assert node.client().login("clerk2", "second-pass").status_code == 401
    refused = admin.form("/users/admin/disable", {})
    assert 'class="flash error"' in refused.text
    admin.form("/users/clerk2/enable", {})
    assert node.client().login("clerk2", "second-pass").status_code in (200, 302)


def test_reissue_and_revoke_badge_take_effect_at_the_kiosk(node):
    office, trainer = _signed_in(node, "staff"), _signed_in(node, "trainer")
    person_id = _register(office, name="吴补证", village=VILLAGE)
    with open_store(node.instance / "fieldsync.db") as store:
        old_code = badges.issue(store, people.get(store, person_id))
        session_id = sessions.listing(store)[0]["id"]
    reissued = office.form(f"/people/{person_id}/reissue-badge", {})
    assert f"person={person_id}" in reissued.request.full_path
    new_code = re.search(r'data-code="([^"]+)"', reissued.text).group(1)
    assert new_code != old_code

    def scan(code):
        return trainer.post("/api/v1/checkins", json={"session": session_id, "code": code}).json["status"]

    assert scan(old_code) == "revoked" and scan(new_code) == "ok"
    office.form(f"/people/{person_id}/revoke-badge", {})
    assert scan(new_code) == "revoked"


def test_names_and_titles_are_escaped_on_every_page(node):
    office = _signed_in(node, "staff")
    script = "<script>alert(1)</script>"
    # The name validator refuses angle brackets, but records pulled from the hub arrive as they are.
    person_id = new_id()
    with open_store(node.instance / "fieldsync.db") as store:
        fields = {"name": script, "town": TOWN, "village": VILLAGE, "level": "level3", "status": "active",
                  "specialty": script, "badge_generation": 1}
        store.write(lambda db: mutable.apply_remote(db, "people", person_id, fields,
                                                    {k: store.hlc.now() for k in fields}, None, origin="hub"))
    created = office.form("/sessions/new", {**SESSION, "title": script, "summary": script}, follow_redirects=False)
    session_id = created.headers["Location"].rsplit("/", 1)[-1]
    for path in ["/", "/people", "/people?q=script", f"/people/{person_id}", f"/people/{person_id}/edit",
                 f"/people/{person_id}/cancel", f"/badges?person={person_id}", "/sessions",
                 f"/sessions/{session_id}", f"/sessions/{session_id}/edit", f"/sessions/{session_id}/cancel"]:
        page = office.get(path)
        assert page.status_code == 200, path
        assert script not in page.text and "&lt;script&gt;" in page.text, path
