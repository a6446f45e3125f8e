"""Property tests: generated definitions load, answers that fit them always pass, and each kind
of bad answer (or bad definition) is refused with the field named. About 190 examples in all."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fieldsync.errors import ValidationFailed
from fieldsync.forms import builder, definition
from tests.forms.strategies import answers_for, definitions, value_for, visibility

PROPERTY = settings(deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
WRONG_TYPE = {"text": 12345, "number": "abc", "single_choice": 42, "multi_choice": "abc",
              "date": "2021-13-45", "phone": "12345", "yes_no": "maybe", "name": "12345", "place": "12",
              "repeat": "abc"}
NOT_AN_OPTION = "zz-not-an-option"


def refused(form: dict, answers: dict) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        builder.validate_answers(form, answers)
    return caught.value.fields


@settings(PROPERTY, max_examples=50)
@given(st.data())
def test_valid_answers_always_pass(data):
    form = definition.load(data.draw(definitions()))
    answers = data.draw(answers_for(form["fields"]))
    loaded = builder.validate_answers(form, answers)
    assert set(loaded) == set(answers)
    for spec in form["fields"]:
        if spec["type"] in ("single_choice", "multi_choice", "yes_no", "date", "phone", "place") \
                and spec["name"] in answers:
            assert loaded[spec["name"]] == answers[spec["name"]]


# -- one kind of bad answer at a time: each returns (where the error must be, answers) or None ----
def _shown(form, answers, kinds=None, *, test=lambda spec: True):
    visible = visibility(form["fields"], answers)
    return [s for s in form["fields"]
            if visible[s["name"]] and (kinds is None or s["type"] in kinds) and test(s)]


def wrong_type(data, form, answers):
    spec = data.draw(st.sampled_from(_shown(form, answers) or [None]))
    return spec and ((spec["name"],), {**answers, spec["name"]: WRONG_TYPE[spec["type"]]})


def out_of_range(data, form, answers):
    bounded = _shown(form, answers, ("number",), test=lambda s: "min" in s or "max" in s)
    spec = data.draw(st.sampled_from(bounded or [None]))
    if spec is None:
        return None
    step = 1 if spec["integer"] else 0.5
    bad = spec["max"] + step if "max" in spec else spec["min"] - step
    return (spec["name"],), {**answers, spec["name"]: bad}


def missing_required(data, form, answers):
    spec = data.draw(st.sampled_from(_shown(form, answers, test=lambda s: s["required"]) or [None]))
    return spec and ((spec["name"],), {k: v for k, v in answers.items() if k != spec["name"]})


def unknown_choice(data, form, answers):
    spec = data.draw(st.sampled_from(_shown(form, answers, ("single_choice", "multi_choice")) or [None]))
    if spec is None:
        return None
    bad = NOT_AN_OPTION if spec["type"] == "single_choice" else [NOT_AN_OPTION]
    return (spec["name"],), {**answers, spec["name"]: bad}


def hidden_but_present(data, form, answers):
    visible = visibility(form["fields"], answers)
    hidden = [s for s in form["fields"] if not visible[s["name"]] and s["type"] != "repeat"]
    spec = data.draw(st.sampled_from(hidden or [None]))
    return spec and ((spec["name"],), {**answers, spec["name"]: data.draw(value_for(spec))})


def too_many_items(data, form, answers):
    spec = data.draw(st.sampled_from(_shown(form, answers, ("repeat",)) or [None]))
    if spec is None:
        return None
    rows = [data.draw(answers_for(spec["fields"], complete=True)) for _ in range(spec["max_items"] + 1)]
    return (spec["name"],), {**answers, spec["name"]: rows}


def too_long(data, form, answers):
    spec = data.draw(st.sampled_from(_shown(form, answers, ("text",)) or [None]))
    return spec and ((spec["name"],), {**answers, spec["name"]: "长" * (spec["max_length"] + 1)})


def bad_row(data, form, answers):
    groups = _shown(form, answers, ("repeat",), test=lambda s: bool(answers.get(s["name"])))
    spec = data.draw(st.sampled_from(groups or [None]))
    if spec is None:
        return None
    first = spec["fields"][0]  # never conditional: nothing comes before it
    rows = copy.deepcopy(answers[spec["name"]])
    rows[0][first["name"]] = WRONG_TYPE[first["type"]]
    return (spec["name"], "0", first["name"]), {**answers, spec["name"]: rows}


@settings(PROPERTY, max_examples=12)
@pytest.mark.parametrize("mutate", [wrong_type, out_of_range, missing_required, unknown_choice,
                                    hidden_but_present, too_many_items, too_long, bad_row])
@given(data=st.data())
def test_each_kind_of_bad_answer_is_refused_naming_the_field(mutate, data):
    form = definition.load(data.draw(definitions()))
    mutated = mutate(data, form, data.draw(answers_for(form["fields"])))
    assume(mutated is not None)
    path, answers = mutated
    errors = refused(form, answers)
    for step in path:
        assert step in errors, (path, errors)
        errors = errors[step]
    assert errors and all(isinstance(message, str) for message in errors)


# -- bad definitions ---------------------------------------------------------------
def unknown_type(data, raw):
    index = data.draw(st.integers(0, len(raw["fields"]) - 1))
    raw["fields"][index]["type"] = "numbr"
    return index, "type"


def min_above_max(data, raw):
    index = data.draw(st.integers(0, len(raw["fields"])))
    raw["fields"].insert(index, {"name": "bounded", "type": "number", "label": {"zh": "数"}, "min": 90, "max": 30})
    return index, "min"


def duplicate_name(data, raw):
    later = data.draw(st.integers(1, len(raw["fields"]) - 1))
    raw["fields"][later]["name"] = raw["fields"][data.draw(st.integers(0, later - 1))]["name"]
    return later, "name"


def forward_show_if(data, raw):
    index = data.draw(st.integers(0, len(raw["fields"]) - 1))
    target = raw["fields"][data.draw(st.integers(index, len(raw["fields"]) - 1))]["name"]
    raw["fields"][index]["show_if"] = {"field": target, "equals": "x"}
    return index, "show_if"


def choice_without_options(data, raw):
    index = data.draw(st.integers(0, len(raw["fields"])))
    raw["fields"].insert(index, {"name": "empty_choice", "type": "single_choice", "label": {"zh": "选"},
                                 "options": []})
    return index, "options"


@settings(PROPERTY, max_examples=8)
@pytest.mark.parametrize("mutate", [unknown_type, min_above_max, duplicate_name, forward_show_if,
                                    choice_without_options])
@given(data=st.data())
def test_each_kind_of_bad_definition_is_refused_naming_the_field(mutate, data):
    raw = data.draw(definitions())
    index, key = mutate(data, raw)
    with pytest.raises(ValidationFailed) as caught:
        definition.load(raw)
    assert key in caught.value.fields["fields"][str(index)], caught.value.fields
