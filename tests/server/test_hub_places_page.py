"""The hub's places page, in process: populations per year and targets per unit, viewed by
staff, changed by an admin only; the dashboard then says where its targets come from."""

from __future__ import annotations

import re

import pytest

from fieldsync.parts import open_store
from tests.backends import copy_instance
from tests.reports import fixture
from tests.support import in_process


@pytest.fixture
def hub(city_template, tmp_path):
    with in_process(copy_instance(city_template[0], tmp_path / "hub"), ids=city_template[1]) as site:
        yield site


def _cell(page: str, row_id: str) -> str:
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.DOTALL).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()


def test_staff_see_populations_and_targets_admins_change_them(hub):
    staff, admin = hub.signed_in("staff"), hub.signed_in("admin")
    page = staff.get(f"/hub/places/?unit={fixture.C1}&year=2025").text
    assert "400 (按2024年人口)" in _cell(page, f"place-{fixture.T1}")
    assert _cell(page, "target-trained") == "年度培训社会体育指导员（人） 60 由威海市按人口分解 (浑南方案默认值)"

    refused = staff.post("/hub/places/targets", data={"unit": fixture.C1, "year": "2025", "trained": "90"},
                         follow_redirects=False)
    assert refused.status_code == 403
    admin.get(f"/hub/places/?unit={fixture.C1}&year=2025")
    assert admin.post("/hub/places/targets", data={"unit": fixture.C1, "year": "2025", "trained": "90"}).status_code == 200
    assert admin.post(f"/hub/places/population?unit={fixture.C1}&year=2025",
                      data={"code": fixture.T1, "year": "2025", "population": "450"}).status_code == 200
    bad = admin.post("/hub/places/population", data={"code": fixture.T1, "year": "2025", "population": "很多"})
    assert bad.status_code == 422
    typed = admin.post(f"/hub/places/population?unit={fixture.C1}&year=2025",
                       data={"code": fixture.T1, "year": "2025", "population": "很多"})
    row = typed.text.split(f'<tr id="place-{fixture.T1}">')[1].split("</tr>")[0]   # the row's form as typed
    assert typed.status_code == 422 and 'value="很多"' in row and 'class="field-error"' in row
    typed = admin.post("/hub/places/targets", data={"unit": fixture.C1, "year": "2025", "trained": "-5",
                                                    "monitored": "7"})
    assert typed.status_code == 422 and 'value="-5"' in typed.text and 'value="7"' in typed.text
    assert 'class="field-error"' in typed.text.split('name="trained"')[1].split("</label>")[0]

    page = staff.get(f"/hub/places/?unit={fixture.C1}&year=2025").text
    assert _cell(page, "target-trained") == "年度培训社会体育指导员（人） 90 本单位设定"
    assert _cell(page, f"place-{fixture.T1}").startswith("张村镇 371002100000 450")
    board = staff.get(f"/hub/?county={fixture.C1}&town={fixture.T1}&year=2025").text
    assert "由环翠区按人口分解" in board       # 张村镇: 90 × 450 / 600


def test_a_target_the_parent_hub_set_shows_as_its_and_the_form_leaves_it_alone(hub):
    """Decision 0290: pulled from the parent, a figure reads 上级中心设定, its field is disabled, and
    saving the other figures works; changing it is 409 target_set_by_parent."""
    from fieldsync.reports import targets_wire

    with open_store(hub.instance / "fieldsync.db") as store:
        store.write(lambda db: targets_wire.apply(db, {"unit": fixture.C1, "years": {"2025": {"trained": 77}}}))
    admin = hub.signed_in("admin", fixture.PASSWORD)
    page = admin.get(f"/hub/places/?unit={fixture.C1}&year=2025").text
    assert _cell(page, "target-trained") == "年度培训社会体育指导员（人） 77 上级中心设定"
    assert re.search(r'name="trained"[^>]*value="77"[^>]*disabled', page)
    form = {"unit": fixture.C1, "year": "2025", "monitored": "50", "activities": "", "per_1000": ""}
    assert admin.post("/hub/places/targets", data=form).status_code == 200
    page = admin.get(f"/hub/places/?unit={fixture.C1}&year=2025").text
    assert _cell(page, "target-monitored").endswith("50 本单位设定") and "77 上级中心设定" in _cell(page, "target-trained")
    taken = admin.post("/hub/places/targets", data={**form, "trained": "1"}, follow_redirects=False)
    assert taken.status_code == 409
