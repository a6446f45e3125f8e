"""Exports and summaries of real submissions: repeat groups flattened, no formulas, masked phones."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from fieldsync import sheets
from fieldsync.errors import ValidationFailed
from fieldsync.forms import catalogue, definition, export, submissions, summary
from tests.forms.conftest import FITNESS_ANSWERS

GRIP_FORM = {
    "id": "grip_test", "title": {"zh": "握力复测", "en": "Grip retest"},
    "fields": [
        {"name": "note", "type": "text", "label": {"zh": "备注"}},
        {"name": "phone", "type": "phone", "label": {"zh": "手机号"}},
        {"name": "hand_used", "type": "single_choice", "label": {"zh": "惯用手"},
         "options": [{"value": "left", "label": {"zh": "左"}}, {"value": "right", "label": {"zh": "右"}}]},
        {"name": "tries", "type": "repeat", "label": {"zh": "测试"}, "max_items": 3, "fields": [
            {"name": "kg", "type": "number", "min": 0, "max": 100, "unit": "kg", "label": {"zh": "握力"}},
            {"name": "ok", "type": "yes_no", "label": {"zh": "有效"}}]},
    ]}
ANSWERS = [
    {"note": '=HYPERLINK("http://evil.example","点我")', "phone": "13812345678", "hand_used": "right",
     "tries": [{"kg": 31.5, "ok": True}, {"kg": 33, "ok": False}]},
    {"note": "+1 复测", "hand_used": "left", "tries": [{"kg": 28}]},
    {"note": "正常", "hand_used": "right"},
]


@pytest.fixture
def grip(hub_store):
    catalogue.save_draft(hub_store, GRIP_FORM)
    catalogue.publish(hub_store, "grip_test")
    for answers in ANSWERS:
        submissions.submit(hub_store, "grip_test", None, None, answers)
    return hub_store


def test_csv_flattens_repeat_groups_masks_phones_and_defuses_formulas(grip):
    text = b"".join(sheets.write(export.sheet(grip, "grip_test"), "csv")).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header, first, second = rows[0], rows[1], rows[2]
    assert header[7:] == ["备注", "手机号", "惯用手", "测试1·握力(kg)", "测试1·有效", "测试2·握力(kg)", "测试2·有效"]
    assert first[7:] == ["'=HYPERLINK(\"http://evil.example\",\"点我\")", "138****5678", "右", "31.5", "是", "33", "否"]
    assert second[7:] == ["'+1 复测", "", "左", "28", "", "", ""]
    assert len(rows) == 4


def test_xlsx_is_the_offices_layout_and_keeps_text_as_text_in_song_typeface(grip):
    content = b"".join(sheets.write(export.sheet(grip, "grip_test"), "xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == "握力复测 提交记录" and sheet["A1"].font.b and "A1:N1" in sheet.merged_cells
    assert sheet["A3"].value == "提交编号" and sheet["A3"].font.b and sheet["A3"].border.left.style == "thin"
    note = sheet.cell(row=4, column=8)
    assert note.value.startswith("=HYPERLINK") and note.data_type == "s"
    assert note.font.name == "宋体"
    assert [c.value for c in sheet[5]][7:11] == ["+1 复测", None, "左", 28]
    assert sheet.max_row == 6
    # widths from the widest text (CONVENTIONS): 2 per wide character, plus 2; the old writer sized
    # by the header alone, so long answers were cut off
    assert sheet.column_dimensions["H"].width == len('=HYPERLINK("http://evil.example","点我")') + 2 + 2


def test_summary_counts_choices_and_describes_numbers(grip):
    charts = {chart["name"]: chart for chart in summary.summarise(grip, "grip_test")}
    assert [(bar["label"], bar["count"]) for bar in charts["hand_used"]["bars"]] == [("左", 1), ("右", 2)]
    assert charts["hand_used"]["bars"][1]["share"] == 100
    assert set(charts) == {"hand_used"}  # text, phone and repeat groups have no chart


def test_summary_of_the_demo_fitness_form(store):
    charts = {chart["name"]: chart for chart in summary.summarise(store, "fitness_monitoring")}
    height = charts["height_cm"]
    assert height["stats"]["count"] == 40 and 140 < height["stats"]["mean"] < 185
    assert sum(bar["count"] for bar in height["bars"]) == 40
    assert sum(bar["count"] for bar in charts["age_group"]["bars"]) == 40


def test_definition_errors_read_as_lines_a_person_can_act_on():
    bad = {**GRIP_FORM, "fields": [*GRIP_FORM["fields"][:3],
                                   {"name": "height", "type": "number", "label": {"zh": "身高"}, "min": 230,
                                    "max": 80}]}
    with pytest.raises(ValidationFailed) as caught:
        definition.load(bad)
    lines = definition.error_lines(caught.value.fields, bad)
    assert lines == [("fields › #4 height › min", "min (230) is greater than max (80).")]


def test_the_hubs_summary_counts_and_renders_as_a_laptops_does(hub_store):
    """On a hub on PostgreSQL, JSON answers come out of the database as text: the summary still
    counts yes/no and choices, and gives whole numbers as whole (60, not 60.0 or '60')."""
    for height, pulse, chronic, conditions in ((171.5, 66, True, ["hypertension", "joint"]),
                                               (160, 60, False, []), (180, 91, True, ["joint"])):
        submissions.submit(hub_store, "fitness_monitoring", None, None, {
            **FITNESS_ANSWERS, "height_cm": height, "resting_heart_rate": pulse, "chronic_condition": chronic,
            "conditions": conditions})
    charts = {chart["name"]: chart for chart in summary.summarise(hub_store, "fitness_monitoring")}
    height, pulse = charts["height_cm"]["stats"], charts["resting_heart_rate"]["stats"]
    assert height == {"count": 3, "min": 160.0, "mean": 170.5, "max": 180.0}
    assert pulse == {"count": 3, "min": 60, "mean": 72.3, "max": 91} and type(pulse["min"]) is int
    assert [bar["count"] for bar in charts["height_cm"]["bars"]] == [1, 0, 0, 0, 1, 0, 0, 1]
    assert [(bar["label"], bar["count"]) for bar in charts["chronic_condition"]["bars"]] == [("是", 2), ("否", 1)]
    assert {bar["label"]: bar["count"] for bar in charts["conditions"]["bars"]}["关节疾病"] == 2
