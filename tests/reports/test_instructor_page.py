"""The instructor's own page and the 志愿服务记录证明 (issue 15, decisions 0250, 0251), in process on
the hand-computed city: a link opens only its own person's page while it is current; a certificate
states the reviewed figures, verifies publicly, and a tampered code is refused; a correction
request changes nothing until staff decide, and the decision is in the history."""

from __future__ import annotations

import base64
import re
import subprocess

import pytest

from fieldsync import printing
from fieldsync.errors import NotFound
from fieldsync.parts import open_store
from fieldsync.records import (
    badge_sheet,
    badges,
    people,
    personal_links,
    profile_requests,
    users,
)
from fieldsync.reports import service_certificates
from fieldsync.server import create_app
from tests.reports import fixture
from tests.support import run_cli


@pytest.fixture
def hub(city_instance):
    app = create_app({"TESTING": True, "AUTO_SYNC_SECONDS": 0, "MODE": "hub"}, instance=city_instance)
    yield app
    app.extensions["fieldsync.store"].close()


@pytest.fixture
def store(hub):
    return hub.extensions["fieldsync.store"]


def _link(store, person_id: str) -> str:
    return personal_links.current(store, people.get(store, person_id))


def _signed_in(hub, role: str = "staff", username: str | None = None):
    client = hub.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"username": username or role, "password": fixture.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    with client.session_transaction() as cookie:
        return client, cookie["csrf"]


def _refused(client, path: str) -> None:
    answer = client.get(path, headers={"Accept": "text/html"})
    assert answer.status_code == 404
    text = answer.get_data(as_text=True)
    assert "personal link" in text or "个人链接" in text


def test_a_link_opens_its_own_page_with_masked_data(hub, store, ids):
    answer = hub.test_client().get(f"/me/{_link(store, ids['p3'])}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "张伟" in page
    assert "138****0003" in page and "13800000003" not in page        # masked as for a trainer
    assert re.search(r">2024</td>\s*<td[^>]*>1</td>\s*<td[^>]*>0.5</td>", page)      # s3's reviewed half hour, in 2024
    assert answer.headers["Referrer-Policy"] == "no-referrer" and "no-store" in answer.headers["Cache-Control"]
    code = badges.issue(store, people.get(store, ids["p3"]))             # the QR shown is the badge a kiosk takes
    assert badges.verify(store.db, code).ok and badges.qr_svg(code) in page


def test_forged_swapped_revoked_and_reissued_links_are_refused(hub, store, ids):
    client = hub.test_client()
    good = _link(store, ids["p3"])
    raw = bytearray(base64.b32decode(good + "=" * (-len(good) % 8)))
    other = base64.b32decode(_link(store, ids["p1"]) + "=" * (-len(good) % 8))
    swapped = bytes(other[:16]) + bytes(raw[16:])                     # p1's id, p3's MAC
    raw[-1] ^= 1                                                       # one bit of the MAC
    for token in (base64.b32encode(swapped).decode().rstrip("="), base64.b32encode(bytes(raw)).decode().rstrip("="),
                  "A" * len(good), "not-a-link", good.lower() + "A"):
        _refused(client, f"/me/{token}")
        assert "王芳" not in client.get(f"/me/{token}").get_data(as_text=True)
    assert client.get(f"/me/{good}").status_code == 200
    personal_links.revoke(store, ids["p3"], actor="staff")
    _refused(client, f"/me/{good}")
    _refused(client, f"/me/{good}/certificate/2024.pdf")
    older = personal_links.issue(store, ids["p3"], actor="staff")
    renewed = personal_links.issue(store, ids["p3"], actor="staff")       # a new link retires the older one
    _refused(client, f"/me/{older}")
    assert client.get(f"/me/{renewed}").status_code == 200
    badges.reissue(store, ids["p3"], actor="staff")                    # a reprinted badge retires the old link
    _refused(client, f"/me/{renewed}")
    assert client.get(f"/me/{_link(store, ids['p3'])}").status_code == 200


def test_a_link_of_another_hub_is_refused(hub, store, ids, tmp_path):
    other = create_app({"TESTING": True, "MODE": "hub"}, instance=tmp_path / "other")
    token = _link(store, ids["p3"])
    try:
        _refused(other.test_client(), f"/me/{token}")
    finally:
        other.extensions["fieldsync.store"].close()


def _pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_certificate_states_reviewed_service_and_verifies(hub, store, ids, tmp_path):
    answer = hub.test_client().get(f"/me/{_link(store, ids['p1'])}/certificate/2024.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = _pdf_text(answer.data, tmp_path)
    for words in ("志愿服务记录证明", "王芳", "劳动节全民健身志愿服务", "张村镇文体站", "2024年5月1日", "1.5",
                  "威海市社会体育指导员协会"):
        assert words in text
    code = re.search(r"核验码：([A-Z2-7-]{19})", text).group(1)
    page = hub.test_client().get(f"/verify/{code.lower()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "王*" in body and "王芳" not in body and "1.5" in body
    assert 'id="verify-corrected"' not in body


def test_a_tampered_code_or_record_is_refused(hub, store, ids):
    certificate, _ = service_certificates.issue(store, ids["p1"], 2024, actor="staff")
    client = hub.test_client()
    code = certificate["code"]
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    answer = client.get(f"/verify/{tampered}", headers={"Accept": "text/html"})
    assert answer.status_code == 404 and "王" not in answer.get_data(as_text=True)
    store.write(lambda db: db.execute("UPDATE service_certificates SET minutes = 6000 WHERE code = ?", [code]))
    answer = client.get(f"/verify/{code}")
    assert answer.status_code == 409 and "6000" not in answer.get_data(as_text=True)


def test_a_certificate_issued_before_a_correction_says_so(hub, store, ids):
    from fieldsync.records import hour_reviews

    certificate, _ = service_certificates.issue(store, ids["p1"], 2024, actor="staff")
    hour_reviews.review(store, ids["s3"], "correct", actor="association", person_id=ids["p1"], minutes=30,
                        reason="提前离开")
    body = hub.test_client().get(f"/verify/{certificate['code']}").get_data(as_text=True)
    assert 'id="verify-corrected"' in body and "1.5" in body        # as issued, and the note
    again, _ = service_certificates.issue(store, ids["p1"], 2024, actor="staff")
    assert again["code"] != certificate["code"] and again["minutes"] == 30


def test_a_correction_request_waits_for_staff_and_lands_in_the_history(hub, store, ids):
    client = hub.test_client()
    link = _link(store, ids["p3"])
    client.get(f"/me/{link}")
    with client.session_transaction() as cookie:
        csrf = cookie["csrf"]
    sent = client.post(f"/me/{link}/requests", data={"csrf_token": csrf, "field": "phone", "value": "13912345678"})
    assert sent.status_code == 303
    assert people.get(store, ids["p3"])["phone"] == "13800000003"      # unchanged until staff decide
    bad = client.post(f"/me/{link}/requests", data={"csrf_token": csrf, "field": "level", "value": "level1"},
                      headers={"Accept": "text/html"})
    assert bad.status_code == 422
    staff, token = _signed_in(hub)
    waiting = staff.get("/requests/").get_data(as_text=True)
    assert "13912345678" in waiting
    request_id = profile_requests.waiting(store)[0]["id"]
    assert staff.post(f"/requests/{request_id}", data={"csrf_token": token, "decision": "approve"}).status_code == 302
    assert people.get(store, ids["p3"])["phone"] == "13912345678"
    changes = people.history(store, ids["p3"])
    assert any(change.get("actor") == "staff" for change in changes)
    client.post(f"/me/{link}/requests", data={"csrf_token": csrf, "field": "specialty", "value": "门球"})
    second = profile_requests.waiting(store)[0]["id"]
    refused = staff.post(f"/requests/{second}", data={"csrf_token": token, "decision": "reject"},
                         headers={"Accept": "text/html"})
    assert refused.status_code == 422                                  # a rejection needs a reason
    staff.post(f"/requests/{second}", data={"csrf_token": token, "decision": "reject", "reason": "项目不在目录"})
    assert people.get(store, ids["p3"])["specialty"] != "门球"
    decided = {r["value"]: (r["status"], r["decided_by"], r["reason"]) for r in profile_requests.of_person(store, ids["p3"])}
    assert decided == {"13912345678": ("approved", "staff", None), "门球": ("rejected", "staff", "项目不在目录")}
    person_page = staff.get(f"/hub/people/{ids['p3']}").get_data(as_text=True)
    assert "项目不在目录" in person_page


def test_the_hub_badge_sheet_prints_the_current_link_on_the_back(hub, store, ids, tmp_path, chinese):
    roster = [people.get(store, ids["p3"]), people.get(store, ids["p1"])]
    made = badge_sheet.cards(store, roster, link_base="https://hub.example/")
    token = made[0].link.rsplit("/", 1)[1]
    assert made[0].link == f"https://hub.example/me/{token}" and personal_links.person_of(store, token)["name"] == "张伟"
    text = _pdf_text(badge_sheet.render_pdf(made, badge_sheet.find_font()), tmp_path)
    cards, backs = text.split("\f")[:2]
    assert "张伟" in cards and "我的页面" in backs and "张伟" in backs
    html = printing.badge_sheet_html(made)
    assert f'data-link="https://hub.example/me/{token}"' in html
    assert badge_sheet.mirrored(0) == 1 and badge_sheet.mirrored(3) == 2     # long-edge duplex
    personal_links.revoke(store, ids["p1"], actor="staff")                    # revoked on purpose: no back
    assert [c.link != "" for c in badge_sheet.cards(store, roster, link_base="https://hub.example/")] == [True, False]
    assert all(c.link == "" for c in badge_sheet.cards(store, roster))       # a laptop's sheet has no backs


def test_links_are_issued_and_revoked_from_the_command_line(city_instance, ids):
    first = run_cli(city_instance, "links", "issue", ids["p3"], "--address", "https://hub.example").stdout.strip()
    assert first.startswith("https://hub.example/me/")
    shown = run_cli(city_instance, "links", "show", ids["p3"], "--address", "https://hub.example").stdout.strip()
    assert shown == first
    run_cli(city_instance, "links", "revoke", ids["p3"])
    with open_store(city_instance / "fieldsync.db") as store, pytest.raises(NotFound):
        personal_links.person_of(store, first.rsplit("/", 1)[1])
    refused = run_cli(city_instance, "links", "issue", "01JAAAAAAAAAAAAAAAAAAAAAAA", check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr


def test_town_staff_on_the_hub_reach_only_their_towns_people(hub, store, ids):
    users.create(store, "staff-t2", fixture.PASSWORD, "staff", units=[fixture.T2])
    town_staff, token = _signed_in(hub, "staff", "staff-t2")
    link = _link(store, ids["p3"])                                      # p3 lives in T1
    for path in (f"/hub/people/{ids['p3']}/service-certificate/2024.pdf",):
        assert town_staff.get(path, headers={"Accept": "text/html"}).status_code == 403
    for verb in ("issue", "revoke"):
        answer = town_staff.post(f"/hub/people/{ids['p3']}/personal-link/{verb}", data={"csrf_token": token})
        assert answer.status_code == 403
    assert hub.test_client().get(f"/me/{link}").status_code == 200      # untouched
    asked = profile_requests.ask(store, people.get(store, ids["p3"]), "specialty", "门球")
    assert "门球" not in town_staff.get("/requests/").get_data(as_text=True)
    refused = town_staff.post(f"/requests/{asked['id']}", data={"csrf_token": token, "decision": "approve"})
    # read as the auditor does: an in-process request leaves its account's towns on this thread
    assert refused.status_code == 403 and store.query_one("SELECT specialty FROM people WHERE id = ?",
                                                          [ids["p3"]])["specialty"] != "门球"
    assert town_staff.get(f"/hub/people/{ids['p5']}/service-certificate/2024.pdf").status_code == 200   # T2's own
