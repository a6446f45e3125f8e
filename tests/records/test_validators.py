"""shared/CONVENTIONS.md, rule by rule."""

from __future__ import annotations

from datetime import date

import pytest

from fieldsync.records import validators as v
from fieldsync.sheets.table import safe_cell


@pytest.mark.parametrize("raw,expected", [
    ("11010519491231002X", "11010519491231002X"),   # the standard's own example
    ("11010519491231002x", "11010519491231002X"),   # lower-case x
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width digits
    (" 110105 19491231 002X ", "11010519491231002X"),
    ("371002197001010012", None),                     # 环翠区, born 1970: stdnum rejects it, we must not
])
def test_valid_id_numbers(raw, expected):
    if expected is None:
        body = raw[:17]
        expected = body + v.ID_CHECK[sum(int(d) * w for d, w in zip(body, v.ID_WEIGHTS)) % 11]
        raw = expected
    assert v.id_number(raw) == expected


@pytest.mark.parametrize("raw,reason", [
    ("11010519491231002Y", "17 digits"),
    ("110105194912310021", "check character"),
    ("110105491231002", "15-digit"),
    ("99010519491231002X", "province"),
    ("110105194902300020", "real date"),
    ("110105189912310020", "out of range"),
])
def test_invalid_id_numbers(raw, reason):
    with pytest.raises(ValueError, match=reason):
        v.id_number(raw)


def test_id_number_from_the_future_is_refused():
    body = "11010520991231002"
    number = body + v.ID_CHECK[sum(int(d) * w for d, w in zip(body, v.ID_WEIGHTS)) % 11]
    with pytest.raises(ValueError):
        v.id_number(number, today=date(2026, 1, 1))


@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"),
    ("+8613800138000", "13800138000"), ("19912345678", "19912345678"),
])
def test_mobiles(raw, expected):
    assert v.mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "phone"])
def test_not_mobiles(raw):
    with pytest.raises(ValueError):
        v.mobile(raw)


@pytest.mark.parametrize("raw,expected", [
    ("0631-5212345", "0631-5212345"), ("(0631)5212345", "0631-5212345"),
    ("0631-5212345转8001", "0631-5212345 转8001"), ("13800138000", "13800138000"),
])
def test_contact_phones(raw, expected):
    assert v.contact_phone(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("王芳", "王芳"), ("王𪚥", "王𪚥"), ("阿依古丽・买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"), ("John Smith", "John Smith"), ("李\x00明", "李明"),
])
def test_names(raw, expected):
    assert v.person_name(raw) == expected
    assert len(v.person_name("𪚥" * 50)) == 50


@pytest.mark.parametrize("raw", ["", "   ", "王" * 51, "张三3", "<script>", "a_b"])
def test_not_names(raw):
    with pytest.raises(ValueError):
        v.person_name(raw)


def test_masks():
    assert v.mask_id_number("371002198701011234") == "3710**********1234"
    assert v.mask_phone("13812341234") == "138****1234"


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2", "@SUM(A1)"])
def test_formula_injection_is_neutralised(text):
    assert safe_cell(text) == "'" + text
    assert safe_cell("王芳") == "王芳" and safe_cell(3) == 3


def test_place_codes_are_text():
    assert v.place_code("371002") == "371002"
    assert v.place_code("371002100201") == "371002100201"
    with pytest.raises(ValueError):
        v.place_code("37100210020")
