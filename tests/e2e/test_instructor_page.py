"""The instructor's own page and the public certificate check in a real browser, in Chinese on a
390 px phone and a 1280 px laptop (issue 15, decisions 0250, 0251): the page shows the reviewed
record, the badge and the town's coming sessions, takes a correction request, and refuses a
forged link with a readable page; /verify/ takes a typed code and refuses a tampered one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fieldsync.parts import open_store
from fieldsync.records import people, personal_links, sessions
from fieldsync.reports import service_certificates
from tests.e2e.page_checks import english_words, layout_faults
from tests.e2e.pages import SCREENS, expect
from tests.reports import fixture
from tests.support import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def city_hub(tmp_path_factory):
    """The hand-computed city on a hub, with p3's link, p1's 2024 certificate and a coming session in T1."""
    path = tmp_path_factory.mktemp("self-hub")
    ids = fixture.build_instance(path)
    with open_store(path / "fieldsync.db") as store:
        link = personal_links.issue(store, ids["p3"], actor="staff")
        certificate, _ = service_certificates.issue(store, ids["p1"], 2024, actor="staff")
        sessions.create(store, fixture._session("volunteer", "下月广场舞展演", fixture.T1,
                                                datetime.now() + timedelta(days=20), 2.0), actor="staff")
    with LiveServer(path, hub=True) as server:
        server.ids, server.link, server.code = ids, link, certificate["code"]
        yield server


def _phone_or_laptop(open_context, screen: str):
    phone = screen == "phone"
    return open_context(viewport=SCREENS[screen], is_mobile=phone, has_touch=phone, locale="zh-CN").new_page()


def _readable(page) -> None:
    assert layout_faults(page) == [] and english_words(page) == set()


@pytest.mark.parametrize("screen", ["phone", "laptop"])
def test_the_instructor_page_in_chinese(open_context, city_hub, screen):
    page = _phone_or_laptop(open_context, screen)
    page.goto(f"{city_hub.url}/me/{city_hub.link}")
    expect(page.locator("#me-name")).to_have_text("张伟")
    expect(page.locator("#me-facts")).to_contain_text("二级")
    expect(page.locator("#me-facts")).to_contain_text("138****0003")
    expect(page.locator("#me-hours")).to_contain_text("2024")
    expect(page.locator("#me-badge svg")).to_be_visible()
    expect(page.locator("#me-upcoming")).to_contain_text("下月广场舞展演")
    _readable(page)
    form = page.locator("#me-request")
    form.locator("select[name=field]").select_option("specialty")
    form.locator("input[name=value]").fill("太极拳" if screen == "phone" else "门球")
    form.locator("button").click()
    expect(page.locator(".flash.ok")).to_contain_text("同意后档案才会修改")
    expect(page.locator("#me-requests")).to_contain_text("等待审核")
    _readable(page)
    with open_store(city_hub.instance / "fieldsync.db") as store:
        assert people.get(store, city_hub.ids["p3"])["specialty"] is None   # a request edits nothing
    forged = city_hub.link[:-2] + ("AA" if not city_hub.link.endswith("AA") else "BB")
    assert page.goto(f"{city_hub.url}/me/{forged}").status == 404
    expect(page.locator(".error-page")).to_contain_text("请向本镇工作人员索取当前链接")
    expect(page.locator("body")).not_to_contain_text("张伟")


@pytest.mark.parametrize("screen", ["phone", "laptop"])
def test_anyone_checks_a_certificate_by_its_code(open_context, city_hub, screen):
    page = _phone_or_laptop(open_context, screen)
    page.goto(f"{city_hub.url}/verify/")
    _readable(page)
    page.fill("#verify-form input[name=code]", service_certificates.spaced(city_hub.code).lower())
    page.click("#verify-form button")
    expect(page.locator("#verify-result h1")).to_have_text("证明真实有效")
    expect(page.locator("#verify-name")).to_have_text("王*")
    expect(page.locator("#verify-hours")).to_have_text("1.5")
    expect(page.locator("#verify-activities")).to_have_text("1")
    _readable(page)
    tampered = city_hub.code[:-1] + ("A" if city_hub.code[-1] != "A" else "B")
    assert page.goto(f"{city_hub.url}/verify/{tampered}").status == 404
    expect(page.locator(".error-page")).to_contain_text("没有使用此核验码")
    _readable(page)
