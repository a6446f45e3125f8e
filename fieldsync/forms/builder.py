"""Turn a checked form definition into a marshmallow schema for its answers.

The kiosk's server and the hub load answers through the same schema, built
from the exact form version they name, so both agree on what is valid. A
field is checked by its type (range, options, dates, mobile numbers); the
rules that need the other answers — `required` and `show_if` — run after,
in field order: a hidden field is never required and must be left empty.
"""

from __future__ import annotations

import copy
import threading
from datetime import date
from typing import ClassVar

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from fieldsync.errors import ValidationFailed
from fieldsync.forms.definition import invalid
from fieldsync.i18n import N_, _, template
from fieldsync.records.schemas import Float, Mobile, Name, PlaceCode
from fieldsync.store import clock

REQUIRED = "Missing data for required field."
EMPTY = (None, "", [])


class WholeNumber(Float):
    """An integer that also arrives as 5.0 or "5" (HTML forms), never as 5.5."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if not float(number).is_integer():
            raise ValidationError(_("Must be a whole number."))
        return int(number)


class Day(fields.Date):
    """A date, within bounds that may say "today"; kept as ISO text in the answers."""

    def __init__(self, low: str | None, high: str | None, **kwargs):
        self.low, self.high = low, high
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        low, high = (_bound(b) for b in (self.low, self.high))
        if low and day < low:
            raise ValidationError(_("Must be on or after %(day)s.", day=low.isoformat()))
        if high and day > high:
            raise ValidationError(_("Must be on or before %(day)s.", day=high.isoformat()))
        return day.isoformat()


def _bound(text: str | None) -> date | None:
    if text is None:
        return None
    return clock.today() if text == "today" else date.fromisoformat(text)


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError(_("Each option may be chosen once."))


def _number(spec: dict) -> fields.Field:
    kind = WholeNumber if spec.get("integer") else Float
    bounds = {k: spec[k] for k in ("min", "max") if spec.get(k) is not None}
    return kind(allow_nan=False, validate=validate.Range(**bounds) if bounds else None)


def _choices(spec: dict) -> list[str]:
    return [option["value"] for option in spec["options"]]


def _multi(spec: dict) -> fields.Field:
    count = {k: spec[f"{k}_selected"] for k in ("min", "max") if spec.get(f"{k}_selected") is not None}
    checks = [_distinct] + ([validate.Length(**count, error=template(N_("Choose between {min} and {max}.")))]
                            if count else [])
    return fields.List(fields.String(validate=validate.OneOf(_choices(spec))), validate=checks)


def _repeat(spec: dict) -> fields.Field:
    group = schema_class(spec["fields"], f"{spec['name']}_item")
    return fields.List(fields.Nested(group), validate=validate.Length(
        min=spec["min_items"], max=spec["max_items"],
        error=template(N_("Give between {min} and {max} entries."))))


class Text(fields.String):
    """Text as typed, without the spaces around it (so "  " does not answer a required field)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


FIELD_MAKERS = {
    "text": lambda spec: Text(validate=validate.Length(max=spec["max_length"])),
    "number": _number,
    "single_choice": lambda spec: fields.String(validate=validate.OneOf(_choices(spec))),
    "multi_choice": _multi,
    "date": lambda spec: Day(spec.get("min"), spec.get("max")),
    "phone": lambda spec: Mobile(),
    "yes_no": lambda spec: fields.Boolean(),
    "name": lambda spec: Name(),
    "place": lambda spec: PlaceCode(),
    "repeat": _repeat,
}


class FormAnswers(Schema):
    """Base of every built schema; `specs` is the field list it was built from."""

    class Meta:
        unknown = RAISE

    specs: ClassVar[list[dict]] = []

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _required_and_shown(self, data, original_data, **kwargs):
        errors = {}
        shown: dict[str, bool | None] = {}  # None: cannot tell, the field has a type error
        for spec in self.specs:
            name = spec["name"]
            if name in original_data and name not in data:
                shown[name] = None  # its own error already speaks for it
                continue
            shown[name] = visible = _visible(spec.get("show_if"), data, shown)
            if visible and spec.get("required") and data.get(name) in EMPTY:
                errors[name] = [REQUIRED]
            elif visible is False and original_data.get(name) not in EMPTY:
                errors[name] = [_hidden_message(spec["show_if"])]
        if errors:
            raise ValidationError(errors)


def _visible(condition: dict | None, data: dict, shown: dict) -> bool | None:
    if condition is None:
        return True
    controller = condition["field"]
    if not shown.get(controller):
        return shown.get(controller)  # hidden stays hidden; unknown stays unknown
    return condition_holds(condition, data)


def condition_holds(condition: dict, answers: dict) -> bool:
    """show_if and promotes: does the answer to condition["field"] match?"""
    value = answers.get(condition["field"])
    wanted = condition["in"] if "in" in condition else [condition["equals"]]
    if isinstance(value, list):  # multi_choice: any wanted option chosen
        return any(item in wanted for item in value)
    return value in wanted


def _hidden_message(condition: dict) -> str:
    wanted = condition["in"] if "in" in condition else [condition["equals"]]
    wanted = _(" or ").join((_("yes") if w else _("no")) if isinstance(w, bool) else str(w) for w in wanted)
    return _("Leave this empty: it applies only when %(field)s is %(wanted)s.", field=condition["field"],
             wanted=wanted)


def clean(answers: dict) -> dict:
    """The answers as stored: empty entries dropped, repeat items cleaned too."""
    out = {}
    for key, value in answers.items():
        if value in EMPTY:
            continue
        if isinstance(value, list) and isinstance(value[0], dict):
            value = [clean(item) for item in value]
        out[key] = value
    return out


def schema_class(specs: list[dict], name: str) -> type[FormAnswers]:
    declared = {}
    for spec in specs:
        field = FIELD_MAKERS[spec["type"]](spec)
        field.allow_none = True  # emptiness is judged by the required/show_if rules
        # A form may call a field "load" or "fields": the class attribute must not be that name.
        field.data_key = field.attribute = spec["name"]
        declared[f"answer__{spec['name']}"] = field
    return type(f"Answers_{name}", (FormAnswers,), {**declared, "specs": specs})


_cache: dict[tuple[str, int], tuple[dict, FormAnswers]] = {}
_cache_lock = threading.Lock()


def answers_schema(definition: dict) -> FormAnswers:
    """The schema for one form version, built once per (id, version) and reused (loading keeps
    no state on the schema). Built again only if a definition of that id and version differs."""
    key = (definition["id"], definition["version"])
    with _cache_lock:
        cached = _cache.get(key)
    if cached and cached[0] == definition:
        return cached[1]
    built = schema_class(definition["fields"], f"{key[0]}_v{key[1]}")()
    with _cache_lock:
        _cache[key] = (copy.deepcopy(definition), built)
    return built


def validate_answers(definition: dict, answers) -> dict:
    """The answers, checked and cleaned; or ValidationFailed naming every bad field."""
    if not isinstance(answers, dict):
        raise ValidationFailed(code="bad_answers")
    try:
        loaded = answers_schema(definition).load(answers)
    except ValidationError as err:
        raise invalid(err, "Some answers are not valid.") from None
    return clean(loaded)
