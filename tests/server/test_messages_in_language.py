"""Validation and error messages in the reader's language (issue 14): Chinese by default, on the
pages and in the API, English for a client that asks for it; marshmallow's own messages too."""

from __future__ import annotations

from html import unescape

from fieldsync.server.sync_banner import plain_words

TOWN, OTHER_TOWNS_VILLAGE = "371002100000", "371002101201"   # 张村镇; 下夼村 lies in another town
PERSON = {"name": "", "gender": "", "birth_year": "", "phone": "", "id_number": "", "town": TOWN,
          "village": "", "level": "none", "specialty": "", "certificate_no": "", "registered_at": ""}


def test_a_bad_registration_form_speaks_chinese(staff):
    staff.get("/people/new")
    bad = staff.form("/people/new", {**PERSON, "name": "李四光", "phone": "12345", "birth_year": "1850"})
    assert bad.status_code == 422
    page = unescape(bad.text)
    assert "'12345' 不是手机号码（应为以13–19开头的11位数字）。" in page and "须在1900到2030之间。" in page
    assert "mobile" not in page and "greater than" not in page

    not_a_number = staff.form("/people/new", {**PERSON, "name": "李四光", "birth_year": "一九八零"})
    assert not_a_number.status_code == 422
    assert "不是有效的整数。" in not_a_number.text and "Not a valid integer" not in not_a_number.text

    elsewhere = staff.form("/people/new", {**PERSON, "name": "李四光", "village": OTHER_TOWNS_VILLAGE})
    assert elsewhere.status_code == 422
    assert "不是本乡镇的村（社区）。" in elsewhere.text and "is not a village" not in elsewhere.text


def test_the_api_answers_in_chinese_unless_the_client_asks_for_english(staff):
    body = {"name": "李四光", "phone": "12345", "birth_year": 1850, "town": TOWN}
    chinese = staff.post("/api/v1/people", json=body).json["error"]
    english = staff.post("/api/v1/people", json=body, headers={"Accept-Language": "en"}).json["error"]
    assert chinese["code"] == english["code"] == "validation_failed"
    assert chinese["message"].startswith("有些字段填写不正确。")
    assert chinese["fields"] == {"phone": ["'12345' 不是手机号码（应为以13–19开头的11位数字）。"],
                                 "birth_year": ["须在1900到2030之间。"]}
    assert english["message"].startswith("Some fields are not valid.")
    assert english["fields"] == {"phone": ["'12345' is not a mobile number (11 digits starting 13-19)."],
                                 "birth_year": [("Must be greater than or equal to 1900 and less than or "
                                                 "equal to 2030.")]}

    typed = {**body, "phone": None, "birth_year": "abc"}
    assert staff.post("/api/v1/people", json=typed).json["error"]["fields"] == {"birth_year": ["不是有效的整数。"]}
    elsewhere = {"name": "李四光", "town": TOWN, "village": OTHER_TOWNS_VILLAGE}
    refused = staff.post("/api/v1/people", json=elsewhere, headers={"Accept-Language": "en-GB,en;q=0.8"}).json
    assert refused["error"]["fields"] == {"village": ["Not a village of this town."]}
    assert "is not a village of 张村镇" in refused["error"]["message"]


def test_an_error_the_hub_sent_is_told_in_the_pages_language(app):
    stored = {"code": "cursor_stale", "message": "The hub was restored from a backup since this cursor; take a "
                                                 "fresh snapshot."}
    with app.test_request_context("/"):
        app.preprocess_request()
        assert plain_words(stored) == "此游标之后市级平台已从备份恢复，请重新获取完整快照。"
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert plain_words(stored) == stored["message"]
