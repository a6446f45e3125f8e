"""Hub screens read without colour and without guessing (issue 14): the coverage squares carry a
glyph and a text, the uncovered villages are named; the duplicates page shows the two records side
by side and says which one stays. Over real HTTP on the hand-computed city (tests/reports/fixture.py)."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def staff(hub):
    return hub.signed_in("staff")


@pytest.fixture(scope="module")
def admin(hub):
    return hub.signed_in("admin")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_coverage_names_the_uncovered_villages_by_town_and_marks_each_square_without_colour(staff):
    page = staff.get("/hub/?year=2024").text            # 2024's training reached V11, V12, V31, V32
    uncovered = re.search(r'<dl class="uncovered" id="uncovered">(.*?)</dl>', page, re.DOTALL).group(1)
    towns = dict(zip((_text(t) for t in re.findall(r"<dt>(.*?)</dt>", uncovered, re.DOTALL)),
                     (_text(d) for d in re.findall(r"<dd>(.*?)</dd>", uncovered, re.DOTALL))))
    assert towns == {"张村镇 (1)": "✗ 胡家村", "羊亭镇 (2)": "✗ 羊亭村 、 ✗ 港头村"}
    squares = re.findall(r'<li class="cell (\w+)"\s+title="([^"]+)"><span aria-hidden="true">(.)</span>'
                         r'<span class="sr-only">([^<]+)</span></li>', page)
    assert len(squares) == 7 and all(title == said for _, title, _, said in squares)
    by_village = {said.split("：")[0].split(":")[0]: (kind, glyph) for kind, _, glyph, said in squares}
    assert by_village["胡家村"] == ("none", "✗") and by_village["梨林村"] == ("t2", "✓")
    assert sum(glyph == "✗" for _, glyph in by_village.values()) == 3
    english = staff.get("/hub/?year=2024&lang=en").text
    assert "梨林村: covered, 2 trained" in english and "胡家村: not covered" in english


def test_duplicates_sets_the_records_side_by_side_and_each_button_names_the_one_that_stays(hub, admin):
    ids = hub.ids                                        # p1 (张村镇) and p8 (石岛镇): one 王芳, one mobile
    page = admin.get("/hub/people/duplicates?lang=zh_CN").text
    records = re.findall(r'<article class="dup-record" data-person="(\w+)">\s*<h3>([^<]+)<', page)
    assert [(person, label.strip()) for person, label in records] == [(ids["p1"], "登记A"), (ids["p8"], "登记B")]
    differing = set(re.findall(r'<div class="dup-field differs" data-field="(\w+)">', page))
    assert {"town", "village", "level", "certificate_no"} <= differing
    assert not differing & {"name", "phone", "origin", "sessions"}
    assert page.count("138****0001") == 3 and "13800000001" not in page      # the heading and each record
    buttons = re.findall(r'name="kept" value="(\w+)"><input type="hidden" name="merged" value="(\w+)">\s*'
                         r"<button[^>]*>([^<]+)</button>", page)
    year = re.search(r'data-field="registered_at">\s*<dt>[^<]*</dt>\s*<dd>(\d{4})', page).group(1)
    assert buttons == [
        (ids["p1"], ids["p8"], f"保留登记A（张村镇，{year}年登记），把登记B（石岛镇，{year}年登记）合并进来"),
        (ids["p8"], ids["p1"], f"保留登记B（石岛镇，{year}年登记），把登记A（张村镇，{year}年登记）合并进来")]
    assert 'style="' not in page and "<script" not in page
