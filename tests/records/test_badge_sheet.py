"""A4 badge sheets as PNG, PDF and HTML, from a real instance with the system's Chinese font."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from fieldsync import printing
from fieldsync.errors import Conflict, FieldsyncError
from fieldsync.records import badge_sheet, badges, people

TOWN = "371002100000"


def _read_qr(image: Image.Image, index: int, modules: int) -> list[list[bool]]:
    """Read the QR of the index-th card back from the pixels, sampling each module's centre."""
    _, x, y = badge_sheet.slot(index)
    left, top, side = badge_sheet.qr_box(x, y)
    module = side / (modules + 2 * badge_sheet.QR_QUIET)
    scale = badge_sheet.DPI / 25.4
    return [[image.getpixel((int((left + (badge_sheet.QR_QUIET + c + 0.5) * module) * scale),
                             int((top + (badge_sheet.QR_QUIET + r + 0.5) * module) * scale))) < 128
             for c in range(modules)] for r in range(modules)]


def test_png_sheets_carry_each_badge_code_in_their_qr(store, tmp_path):
    roster = badge_sheet.select_people(store, town=TOWN)[:12]
    written = printing.write_badge_sheet(store, tmp_path / "sheet.png", roster)
    assert [p.name for p in written] == ["sheet.png", "sheet-2.png"]
    pages = [Image.open(p) for p in written]
    assert pages[0].size == (2480, 3508) and pages[0].info["dpi"][0] == pytest.approx(300, abs=1)
    for index in (0, 9, 10, 11):      # first and last of page 1, both cards of page 2
        code = badges.issue(store, roster[index])
        expected = badge_sheet.qr_matrix(code)
        assert _read_qr(pages[index // 10], index % 10, len(expected)) == expected
        assert badges.verify(store.db, code).person_id == roster[index]["id"]
    # Cards hold ink beyond the QR: the name, town and level were drawn left of it.
    _, x, y = badge_sheet.slot(0)
    text_area = pages[0].crop(tuple(round(v * 300 / 25.4) for v in (x + 3, y + 5, x + 35, y + 45)))
    assert text_area.getextrema()[0] < 100


def test_pdf_sheet_is_a4_with_one_page_per_ten_badges(store, tmp_path):
    roster = badge_sheet.select_people(store, town=TOWN)[:11]
    [path] = printing.write_badge_sheet(store, tmp_path / "sheet.pdf", roster)
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", content)) == 2
    assert b"/MediaBox [0 0 595.28 841.89]" in content
    assert b"/FontFile" in content          # the Chinese font is embedded (subset), not assumed


def test_html_sheet_is_the_print_page_with_every_code(store, tmp_path):
    roster = badge_sheet.select_people(store, town=TOWN)[:3]
    [path] = printing.write_badge_sheet(store, tmp_path / "sheet.html", roster)
    html = path.read_text("utf-8")
    for person in roster:
        assert f'data-code="{badges.issue(store, person)}"' in html and person["name"] in html
    assert html.count('class="page"') == 1 and "<svg" in html


def test_cancelled_people_get_no_badge_and_a_missing_font_says_what_to_do(store, tmp_path, monkeypatch):
    person = badge_sheet.select_people(store, town=TOWN)[0]
    people.cancel(store, person["id"])
    with pytest.raises(Conflict) as err:
        badge_sheet.select_people(store, [person["id"]])
    assert person["name"] in err.value.message
    monkeypatch.setenv("FIELDSYNC_CJK_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(FieldsyncError) as err:
        printing.write_badge_sheet(store, tmp_path / "sheet.pdf", badge_sheet.select_people(store, town=TOWN)[:1])
    assert err.value.code == "no_cjk_font" and "missing.ttf" in err.value.message
    assert not (tmp_path / "sheet.pdf").exists()
