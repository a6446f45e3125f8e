"""What a form definition may say, checked field by field before anyone fills it in.

A definition is JSON (docs/forms.md): an id, a version, a title in Chinese and
English, and a list of fields. `load` returns the definition normalised (every
option filled in) or raises ValidationFailed whose `fields` point at each bad
spot, e.g. {"fields": {"2": {"min": ["min (90) is greater than max (30)."]}}}.
"""

from __future__ import annotations

import math
import re
from datetime import date

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from fieldsync.errors import BadRequest, ValidationFailed, from_marshmallow
from fieldsync.i18n import N_, _
from fieldsync.records import validators
from fieldsync.records.schemas import LEVELS, Float, Integer

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FORM_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
OPTION_VALUE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
# Types whose value a show_if condition may test, and what a compared value must be.
CONTROLLERS = {"single_choice": str, "multi_choice": str, "text": str, "yes_no": bool, "number": (int, float)}
MAX_FIELDS = 200
MAX_VERSION = 1_000_000


class Label(Schema):
    class Meta:
        unknown = RAISE

    zh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    en = fields.String(validate=validate.Length(min=1, max=200))


class Scalar(fields.Field):
    """A value a condition compares with: text (trimmed, as answers are), a number or true/false."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
            return value
        raise ValidationError(_("Must be text, a number or true/false."))


class Condition(Schema):
    """show_if: {"field": "result", "equals": "pass"} or {"field": ..., "in": [...]}."""

    class Meta:
        unknown = RAISE

    field = fields.String(required=True, validate=validate.Regexp(NAME, error=N_("Not a field name.")))
    equals = Scalar()
    in_ = fields.List(Scalar(), data_key="in", validate=validate.Length(min=1, max=100))

    @validates_schema
    def _one_test(self, data, **kwargs):
        if ("equals" in data) == ("in_" in data):
            raise ValidationError(_("Give exactly one of equals or in."), "field")


class Option(Schema):
    class Meta:
        unknown = RAISE

    value = fields.String(required=True, validate=validate.Regexp(
        OPTION_VALUE, error=N_("Option values are 1-64 letters, digits, - or _.")))
    label = fields.Nested(Label, required=True)


class BaseField(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(
        NAME, error=N_("Field names start with a-z, then a-z, 0-9 or _, at most 40 characters.")))
    type = fields.String(required=True)
    label = fields.Nested(Label, required=True)
    help = fields.Nested(Label)
    required = fields.Boolean(load_default=False)
    show_if = fields.Nested(Condition)


def _min_not_above_max(data: dict, low: str, high: str) -> None:
    if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
        raise ValidationError(_("%(low)s (%(low_value)s) is greater than %(high)s (%(high_value)s).", low=low,
                                low_value=data[low], high=high, high_value=data[high]), low)


class TextField(BaseField):
    max_length = Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class Bound(Float):
    """A number bound, kept whole when it is (messages then say 80, not 80.0)."""

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        return int(number) if number.is_integer() else number


class NumberField(BaseField):
    min = Bound(allow_nan=False)
    max = Bound(allow_nan=False)
    integer = fields.Boolean(load_default=False)
    unit = fields.String(validate=validate.Length(max=20))

    @validates_schema
    def _range(self, data, **kwargs):
        _min_not_above_max(data, "min", "max")


def _unique_options(options: list[dict]) -> None:
    seen = set()
    for index, option in enumerate(options):
        if option["value"] in seen:
            raise ValidationError({index: {"value": [_("Option %(value)r appears twice.", value=option["value"])]}},
                                  "options")
        seen.add(option["value"])


class SingleChoiceField(BaseField):
    options = fields.List(fields.Nested(Option), required=True, validate=validate.Length(
        min=1, max=100, error=N_("A choice needs 1 to 100 options.")))

    @validates_schema
    def _options(self, data, **kwargs):
        _unique_options(data.get("options", []))


class MultiChoiceField(SingleChoiceField):
    min_selected = Integer(validate=validate.Range(min=0, max=100))
    max_selected = Integer(validate=validate.Range(min=1, max=100))

    @validates_schema
    def _selection(self, data, **kwargs):
        _min_not_above_max(data, "min_selected", "max_selected")


class DateBound(fields.Field):
    """An ISO date, or "today" (checked when the answer is)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "today":
            return value
        try:
            return date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise ValidationError(_('Use an ISO date such as 2025-01-31, or "today".')) from None


class DateField(BaseField):
    min = DateBound()
    max = DateBound()

    @validates_schema
    def _range(self, data, **kwargs):
        if "today" not in (data.get("min"), data.get("max")):
            _min_not_above_max(data, "min", "max")


class PlainField(BaseField):
    """phone, yes_no, name, place: nothing to set beyond the common keys."""


class FieldSpec(fields.Field):
    """One entry of a `fields` list, checked by the schema its type names."""

    def __init__(self, *, in_group: bool = False, **kwargs):
        self.in_group = in_group
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError(_("Each field is an object with name, type and label."))
        kind = value.get("type")
        if kind == "repeat" and self.in_group:
            # A repeat inside a repeat has no sensible spreadsheet shape.
            raise ValidationError({"type": [_("A repeat group cannot hold another repeat group.")]})
        if not isinstance(kind, str) or kind not in TYPES:
            raise ValidationError({"type": [_("Unknown type %(kind)r; use one of: %(types)s.", kind=kind,
                                              types=", ".join(TYPES))]})
        return TYPES[kind]().load(value)


def check_field_list(specs: list[dict]) -> dict:
    """Errors that need the whole list: repeated names, show_if pointing nowhere or forward."""
    errors: dict = {}
    earlier: dict[str, dict] = {}
    for index, spec in enumerate(specs):
        problems: dict = {}
        if spec["name"] in earlier:
            problems["name"] = [f"Another field is already called {spec['name']!r}."]
        condition = spec.get("show_if")
        if condition:
            message = _condition_problem(condition, earlier, spec["name"])
            if message:
                problems["show_if"] = [message]
        if problems:
            errors[index] = problems
        earlier.setdefault(spec["name"], spec)
    return errors


def _condition_problem(condition: dict, earlier: dict, own_name: str) -> str | None:
    target = earlier.get(condition["field"])
    if target is None:
        where = "itself" if condition["field"] == own_name else f"{condition['field']!r}"
        return f"Refers to {where}; it must name a field that comes before this one."
    expected = CONTROLLERS.get(target["type"])
    if expected is None:
        return f"Cannot test {target['name']!r}: a {target['type']} field is not comparable."
    values = condition.get("in_", [condition.get("equals")])
    for value in values:
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            return f"Compares {target['name']!r} with {value!r}, which is not a {target['type']} value."
        options = {o["value"] for o in target.get("options", [])}
        if options and value not in options:
            return f"{value!r} is not an option of {target['name']!r}."
    return None


class RepeatField(BaseField):
    """A group answered zero or more times (e.g. one row per measurement attempt)."""

    fields_ = fields.List(FieldSpec(in_group=True), data_key="fields", required=True,
                          validate=validate.Length(min=1, max=MAX_FIELDS))
    min_items = Integer(load_default=0, validate=validate.Range(min=0, max=100))
    max_items = Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _group(self, data, **kwargs):
        _min_not_above_max(data, "min_items", "max_items")
        errors = check_field_list(data.get("fields_", []))
        if errors:
            raise ValidationError(errors, "fields")


TYPES = {
    "text": TextField, "number": NumberField, "single_choice": SingleChoiceField,
    "multi_choice": MultiChoiceField, "date": DateField, "phone": PlainField, "yes_no": PlainField,
    "name": PlainField, "place": PlainField, "repeat": RepeatField,
}


class Promotion(Schema):
    """Passing grants a level: {"when": {...condition...}, "level": "level3", "certificate_field": ...}."""

    class Meta:
        unknown = RAISE

    when = fields.Nested(Condition, required=True)
    level = fields.String(required=True, validate=validate.OneOf([k for k in LEVELS if k != "none"]))
    certificate_field = fields.String(validate=validate.Regexp(NAME, error=N_("Not a field name.")))


class Definition(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(
        FORM_ID, error=N_("Form ids are 2-64 characters: a-z first, then a-z, 0-9 or _.")))
    version = Integer(load_default=1, validate=validate.Range(min=1, max=MAX_VERSION))
    title = fields.Nested(Label, required=True)
    description = fields.Nested(Label)
    fields_ = fields.List(FieldSpec(), data_key="fields", required=True,
                          validate=validate.Length(min=1, max=MAX_FIELDS))
    promotes = fields.Nested(Promotion)

    @validates_schema
    def _whole(self, data, **kwargs):
        specs = data.get("fields_", [])
        errors = {"fields": check_field_list(specs)}
        if data.get("promotes"):
            errors["promotes"] = _promotion_problems(data["promotes"], {s["name"]: s for s in specs})
        errors = {key: value for key, value in errors.items() if value}
        if errors:
            raise ValidationError(errors)


def _promotion_problems(promotion: dict, by_name: dict) -> dict:
    problems = {}
    condition = _condition_problem(promotion["when"], by_name, "")
    if condition:
        problems["when"] = [condition]
    certificate = promotion.get("certificate_field")
    if certificate and by_name.get(certificate, {}).get("type") != "text":
        problems["certificate_field"] = [f"{certificate!r} is not a text field of this form."]
    return problems


def load(document) -> dict:
    """Check a definition (parsed JSON) and return it normalised, with plain key names."""
    if not isinstance(document, dict):
        raise BadRequest(code="bad_definition")
    try:
        loaded = Definition().load(document)
    except ValidationError as err:
        raise invalid(err, _("The form definition is not valid.")) from None
    return _plain(loaded)


def _plain(value):
    """Rename the attributes marshmallow needed (fields_, in_) back to their JSON keys."""
    if isinstance(value, dict):
        return {key.rstrip("_"): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def invalid(err: ValidationError, message: str) -> ValidationFailed:
    """Our error naming each bad spot; list indexes become strings so it renders as JSON."""
    def walk(value):
        if isinstance(value, dict):
            return {str(key): walk(item) for key, item in value.items()}
        return value

    return from_marshmallow(ValidationError(walk(err.messages)), message)


def error_lines(messages: dict, document, path: tuple = ()) -> list[tuple[str, str]]:
    """Nested errors as (where, message) lines a person can act on: "fields › #3 height_cm › min"."""
    lines = []
    for key, value in messages.items():
        node = _child(document, key)
        where = path if key == "_schema" else path + (_step(key, node),)
        if isinstance(value, dict):
            lines += error_lines(value, node, where)
        else:
            lines += [(" › ".join(where), str(message)) for message in value]
    return lines


def _child(document, key: str):
    if isinstance(document, dict):
        return document.get(key)
    index = validators.whole_number_or_none(key)
    if isinstance(document, list) and index is not None and index < len(document):
        return document[index]
    return None


def _step(key: str, node) -> str:
    index = validators.whole_number_or_none(key)
    if index is None:
        return key
    name = node.get("name") if isinstance(node, dict) else None
    return f"#{index + 1}" + (f" {name}" if isinstance(name, str) else "")
