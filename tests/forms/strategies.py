"""Hypothesis strategies: form definitions of every field type, and answers that fit them.

`answers_for` is the test's own reading of the format (docs/forms.md): it walks
the fields in order, decides what is shown from the answers so far, and fills
what is shown, so a valid answer never depends on the code under test.
"""

from __future__ import annotations

import string
from datetime import date, timedelta

from hypothesis import strategies as st

from fieldsync.store import clock

FLAT_TYPES = ("text", "number", "single_choice", "multi_choice", "date", "phone", "yes_no", "name", "place")
CONTROLLERS = ("text", "number", "single_choice", "multi_choice", "yes_no")
NAMES = ("王芳", "欧阳·娜", "John Smith", "王𪚥", "李四")
DAY_RANGE = (date(2000, 1, 1), date(2030, 12, 31))
LABEL = {"zh": "问题", "en": "Question"}
# Plain names, and names a schema class already uses for itself.
FIELD_NAMES = tuple(f"f{i}" for i in range(8)) + ("load", "fields", "specs", "validate", "opts", "dump", "many")
# Answers are trimmed when loaded; text the strategies make has nothing to trim.
TEXT = st.text(alphabet=string.ascii_letters + "中文体质监测 ", max_size=12).map(str.strip).filter(bool)


def _options(draw) -> list[dict]:
    values = draw(st.lists(st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=6),
                           min_size=1, max_size=5, unique=True))
    return [{"value": v, "label": {"zh": f"选项{v}"}} for v in values]


@st.composite
def field_spec(draw, name: str, kind: str) -> dict:
    spec = {"name": name, "type": kind, "label": LABEL, "required": draw(st.booleans())}
    if kind == "text":
        spec["max_length"] = draw(st.integers(1, 40))
    elif kind == "number":
        spec["integer"] = draw(st.booleans())
        low, high = sorted(draw(st.lists(st.integers(-1000, 1000), min_size=2, max_size=2)))
        bounds = draw(st.sampled_from(["both", "min", "max", "none"]))
        if bounds in ("both", "min"):
            spec["min"] = low
        if bounds in ("both", "max"):
            spec["max"] = high
    elif kind in ("single_choice", "multi_choice"):
        spec["options"] = _options(draw)
        if kind == "multi_choice" and draw(st.booleans()):
            most = draw(st.integers(1, len(spec["options"])))
            spec.update(min_selected=draw(st.integers(0, most)), max_selected=most)
    elif kind == "date":
        low, high = sorted(draw(st.lists(st.dates(*DAY_RANGE), min_size=2, max_size=2)))
        spec["min"] = low.isoformat()
        spec["max"] = draw(st.sampled_from([high.isoformat(), "today"]))
        if spec["max"] == "today" and low > clock.today():
            spec["min"] = (clock.today() - timedelta(days=30)).isoformat()
    return spec


def _condition_value(draw, controller: dict):
    kind = controller["type"]
    if kind in ("single_choice", "multi_choice"):
        return draw(st.sampled_from([o["value"] for o in controller["options"]]))
    if kind == "yes_no":
        return draw(st.booleans())
    if kind == "number":
        return draw(st.integers(controller.get("min", -1000), controller.get("max", 1000)))
    return draw(TEXT)


@st.composite
def field_list(draw, *, flat: bool, min_size: int = 1, max_size: int = 6) -> list[dict]:
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=min_size, max_size=max_size, unique=True))
    kinds = FLAT_TYPES if flat else FLAT_TYPES + ("repeat",)
    specs: list[dict] = []
    for name in names:
        kind = draw(st.sampled_from(kinds))
        spec = draw(repeat_spec(name)) if kind == "repeat" else draw(field_spec(name, kind))
        controllers = [s for s in specs if s["type"] in CONTROLLERS]
        if controllers and draw(st.integers(0, 2)) == 0:
            controller = draw(st.sampled_from(controllers))
            values = draw(st.lists(st.just(None), min_size=1, max_size=3))
            values = list(dict.fromkeys(_condition_value(draw, controller) for _ in values))
            spec["show_if"] = ({"field": controller["name"], "equals": values[0]} if len(values) == 1
                               else {"field": controller["name"], "in": values})
        specs.append(spec)
    return specs


@st.composite
def repeat_spec(draw, name: str) -> dict:
    low = draw(st.integers(0, 2))
    return {"name": name, "type": "repeat", "label": LABEL, "required": draw(st.booleans()),
            "min_items": low, "max_items": draw(st.integers(max(low, 1), 3)),
            "fields": draw(field_list(flat=True, max_size=3))}


@st.composite
def definitions(draw) -> dict:
    return {"id": "generated", "version": draw(st.integers(1, 5)), "title": {"zh": "生成的表单"},
            "fields": draw(field_list(flat=False, min_size=2, max_size=7))}


# -- answers --------------------------------------------------------------------
def shown(spec: dict, answers: dict, visible: dict) -> bool:
    condition = spec.get("show_if")
    if condition is None:
        return True
    if not visible[condition["field"]]:
        return False
    value = answers.get(condition["field"])
    wanted = condition["in"] if "in" in condition else [condition["equals"]]
    if isinstance(value, list):
        return any(item in wanted for item in value)
    return value is not None and value in wanted


def visibility(specs: list[dict], answers: dict) -> dict[str, bool]:
    visible: dict[str, bool] = {}
    for spec in specs:
        visible[spec["name"]] = shown(spec, answers, visible)
    return visible


@st.composite
def value_for(draw, spec: dict):
    kind = spec["type"]
    if kind == "text":
        return draw(TEXT.filter(lambda t: len(t) <= spec["max_length"]))
    if kind == "number":
        low, high = spec.get("min", -1000), spec.get("max", 1000)
        if spec["integer"]:
            return draw(st.integers(low, high))
        return draw(st.floats(low, high, allow_nan=False, allow_infinity=False))
    if kind == "single_choice":
        return draw(st.sampled_from([o["value"] for o in spec["options"]]))
    if kind == "multi_choice":
        values = [o["value"] for o in spec["options"]]
        low, high = max(spec.get("min_selected", 0), 1), spec.get("max_selected", len(values))
        return draw(st.lists(st.sampled_from(values), min_size=low, max_size=high, unique=True))
    if kind == "date":
        high = clock.today() if spec["max"] == "today" else date.fromisoformat(spec["max"])
        return draw(st.dates(date.fromisoformat(spec["min"]), high)).isoformat()
    if kind == "phone":
        return draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    if kind == "yes_no":
        return draw(st.booleans())
    if kind == "name":
        return draw(st.sampled_from(NAMES))
    if kind == "place":
        return draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    rows = draw(st.integers(spec["min_items"], spec["max_items"]))
    return [draw(answers_for(spec["fields"], complete=True)) for _ in range(rows)] or None


@st.composite
def answers_for(draw, specs: list[dict], *, complete: bool = False) -> dict:
    """Valid answers: every shown required field filled, optional ones sometimes, hidden ones never.
    complete=True fills every shown field (a repeat row must not come out empty)."""
    answers: dict = {}
    visible: dict[str, bool] = {}
    for spec in specs:
        visible[spec["name"]] = shown(spec, answers, visible)
        if not visible[spec["name"]]:
            continue
        if spec["required"] or complete or draw(st.booleans()):
            value = draw(value_for(spec))
            if value is not None:
                answers[spec["name"]] = value
        if spec["type"] == "repeat" and spec["required"] and not answers.get(spec["name"]):
            answers[spec["name"]] = [draw(answers_for(spec["fields"], complete=True))]
    return answers
