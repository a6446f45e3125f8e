"""Phone stations, in process: a token lets a phone scan without a password, and nothing more."""

from __future__ import annotations

import re

from tests.support import AppClient


def create_station(staff: AppClient, name: str, session_id: str = "", **more: str) -> tuple[str, str]:
    """A station for four hours unless the test says otherwise: by default a token lives until its
    session's end plus two hours, and the demo's sessions of today end at noon, so a test run in the
    afternoon would find the token expired."""
    staff.get("/kiosk/stations")
    page = staff.form("/kiosk/stations", {"name": name, "session": session_id, "lifetime": "4", **more})
    assert page.status_code == 201, page.text
    url = re.search(r'id="join-url">([^<]+)<', page.text).group(1).replace("&amp;", "&")
    station_id = re.findall(r"/kiosk/stations/([0-9A-Z]{26})/revoke", page.text)[0]
    return url, station_id


def first_session(staff: AppClient) -> str:
    return re.search(r"/kiosk/([0-9A-Z]{26})", staff.get("/kiosk/").text).group(1)


def test_a_joined_phone_scans_with_its_token_and_its_cookie_alone_writes_nothing(client, staff):
    session_id = first_session(staff)
    join_url, _ = create_station(staff, "门口手机1", session_id)
    assert join_url.startswith("http://localhost/kiosk/join?token=")   # the address the staff used
    token = join_url.split("token=", 1)[1]

    phone = client
    joined = phone.get(join_url)
    assert joined.status_code == 200 and joined.headers["Referrer-Policy"] == "no-referrer"
    kiosk = phone.get(f"/kiosk/{session_id}", follow_redirects=False)
    assert kiosk.status_code == 200 and "门口手机1" in kiosk.text

    body = {"session": session_id, "code": "FS1:NOTABADGE"}
    with_token = phone.post("/api/v1/checkins", json=body,
                            headers={"Authorization": f"Bearer {token}"})
    assert with_token.status_code == 200 and with_token.json["status"] == "invalid"
    cookie_only = phone.post("/api/v1/checkins", json=body)
    assert cookie_only.status_code == 401


def test_a_station_tied_to_a_session_opens_only_that_kiosk(client, staff):
    sessions = re.findall(r"/kiosk/([0-9A-Z]{26})", staff.get("/kiosk/").text)
    join_url, _ = create_station(staff, "phone-2", sessions[0])
    phone = client
    phone.get(join_url)
    assert phone.get("/kiosk/", follow_redirects=False).headers["Location"] \
        .endswith(f"/kiosk/{sessions[0]}")
    other = phone.get(f"/kiosk/{sessions[1]}")
    assert other.status_code == 403


def test_revoking_a_station_shuts_it_out(client, staff):
    session_id = first_session(staff)
    join_url, station_id = create_station(staff, "phone-3")
    token = join_url.split("token=", 1)[1]
    phone = client
    phone.get(join_url)
    assert staff.form(f"/kiosk/stations/{station_id}/revoke", {}, follow_redirects=False).status_code == 302

    refused = phone.post("/api/v1/checkins", json={"session": session_id, "code": "FS1:X"},
                         headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "bad_token"
    page = phone.get(f"/kiosk/{session_id}", follow_redirects=False)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert phone.get(join_url).status_code == 401


def test_a_bad_station_form_comes_back_as_typed(staff):
    staff.get("/kiosk/stations")
    bad = staff.form("/kiosk/stations", {"name": "门口<1>", "lifetime": "4"})
    assert bad.status_code == 422
    name = bad.text.split('name="name"')[1].split("</label>")[0]
    assert 'value="门口&lt;1&gt;"' in name and 'class="field-error"' in name
    assert '<option value="4" selected>' in bad.text


def test_bad_station_forms_get_a_4xx_never_a_5xx(client, staff, trainer):
    staff.get("/kiosk/stations")
    assert staff.form("/kiosk/stations", {"name": ""}).status_code == 422
    assert staff.form("/kiosk/stations", {"name": "<script>"}).status_code == 422
    assert staff.form("/kiosk/stations", {"name": "x", "session": "NOPE"}).status_code == 404
    create_station(staff, "twin")
    assert staff.form("/kiosk/stations", {"name": "twin"}).status_code == 409
    assert staff.form("/kiosk/stations/NOPE/revoke", {}).status_code == 404
    assert trainer.get("/kiosk/stations").status_code == 403
    assert client.get("/kiosk/join?token=").status_code == 401
