"""marshmallow schemas for what users type: the edge where input becomes trusted values.

The API, the admin pages, the CLI and the roster importer all load through
these, so a phone number or a level means the same thing everywhere.
"""

from __future__ import annotations

import re

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from fieldsync import labels
from fieldsync.i18n import N_, _
from fieldsync.records import validators

# The codes and the office's Chinese words for them (fieldsync/labels.py): imports accept either.
LEVELS = labels.chinese("level")
SESSION_KINDS = labels.chinese("kind")
# The kinds that count as 全民健身活动 (mass fitness activities) and as volunteer service.
MASS_ACTIVITY_KINDS = ("volunteer", "theme")
MODES = labels.chinese("mode")
GENDERS = labels.chinese("gender")
# What the 临汾 notice (shared/seeds/001) asks of each activity: where it took sport (体育"六进")
# and whom it served. Codes are stored and synced; the labels are what offices read.
VENUE_TYPES = labels.chinese("venue_type")
GROUPS_SERVED = labels.chinese("group")
GROUP_SEPARATORS = re.compile(r"[,，、;；\s]+")


def _checked(func):
    class Checked(fields.String):
        def _deserialize(self, value, attr, data, **kwargs):
            text = super()._deserialize(value, attr, data, **kwargs)
            if text == "" and not self.required:
                return None
            try:
                return func(text)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None

    Checked.__name__ = func.__name__.title().replace("_", "")
    return Checked


Name = _checked(validators.person_name)
Mobile = _checked(validators.mobile)
ContactPhone = _checked(validators.contact_phone)
IdNumber = _checked(validators.id_number)
PlaceCode = _checked(validators.place_code)


class Integer(fields.Integer):
    """marshmallow's Integer, but text (query arguments, HTML forms) must be ASCII digits of a
    bounded length (validators.whole_number), and a number must fit an SQLite INTEGER."""

    def _format_num(self, value) -> int:
        if isinstance(value, str):
            return validators.whole_number(value, signed=True)
        number = int(value)
        if abs(number) >= 2 ** 63:
            raise OverflowError(number)
        return number


class Float(fields.Float):
    """marshmallow's Float, but text must be ASCII digits (validators.decimal_number)."""

    def _format_num(self, value) -> float:
        return validators.decimal_number(value) if isinstance(value, str) else float(value)


class Choice(fields.String):
    """Accepts the code ('level3') or its Chinese label ('三级')."""

    def __init__(self, choices: dict, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if text in self.choices:
            return text
        for code, label in self.choices.items():
            if text == label:
                return code
        allowed = ", ".join(f"{c} ({l})" for c, l in self.choices.items())
        raise ValidationError(_("%(text)r is not one of: %(allowed)s.", text=text, allowed=allowed))


class MultiChoice(fields.Field):
    """Several codes of one catalogue ('youth,elderly', ['青少年/幼儿', '老年人'] or '老年人、残疾人'),
    stored as the codes in the catalogue's order, comma-separated; none chosen is None."""

    def __init__(self, choices: dict, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = GROUP_SEPARATORS.split(value)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValidationError("Expected codes separated by commas, or a list of codes.")
        by_label = {label: code for code, label in self.choices.items()}
        chosen = {by_label.get(v.strip(), v.strip()) for v in value if v.strip()}
        unknown = sorted(chosen - set(self.choices))
        if unknown:
            allowed = ", ".join(f"{c} ({l})" for c, l in self.choices.items())
            raise ValidationError(f"{', '.join(map(repr, unknown))} is not one of: {allowed}.")
        return ",".join(code for code in self.choices if code in chosen) or None

    def _serialize(self, value, attr, obj, **kwargs):
        return value.split(",") if value else []


def labels_of(choices: dict, codes: str | None, separator: str = "、") -> str:
    """Stored codes ('youth,elderly') as the office reads them ('青少年/幼儿、老年人')."""
    return separator.join(choices.get(code, code) for code in (codes or "").split(",") if code)


def bounded_text(max_len: int, *, min_len: int = 0, **kwargs):
    """A string field of at most max_len characters (the API, the forms and the sync wire)."""
    return fields.String(validate=validate.Length(min=min_len, max=max_len), **kwargs)


class PersonSchema(Schema):
    class Meta:
        unknown = RAISE

    name = Name(required=True)
    gender = Choice(GENDERS, allow_none=True)
    birth_year = Integer(allow_none=True, validate=validate.Range(min=1900, max=2030))
    phone = Mobile(allow_none=True)
    id_number = IdNumber(allow_none=True, load_only=True)
    town = PlaceCode(required=True)
    village = PlaceCode(allow_none=True)
    level = Choice(LEVELS, load_default="none")
    specialty = bounded_text(50, allow_none=True)
    certificate_no = bounded_text(50, allow_none=True)
    registered_at = fields.Date(allow_none=True)
    recruited_via = bounded_text(64, allow_none=True)   # the 结对子 pairing that found this leader


class PromotionSchema(Schema):
    """晋级 from a person page, node or hub: a level above none, with its certificate number."""

    class Meta:
        unknown = RAISE

    level = Choice(LEVELS, required=True, validate=validate.NoneOf(["none"], error=N_("A promotion is to 三级 or above.")))
    certificate_no = fields.String(required=True, validate=validate.Length(
        min=1, max=50, error=N_("A level comes with its certificate number (at most 50 characters).")))


def _not_blank(value) -> None:
    # An optional field loads "" as None; a change must not blank a field the record requires.
    if value is None:
        raise ValidationError(_("This field cannot be blank."))


class PersonUpdateSchema(PersonSchema):
    """A modification: every field optional, only those given change."""

    class Meta:
        unknown = RAISE

    name = Name(validate=_not_blank)
    town = PlaceCode(validate=_not_blank)
    level = Choice(LEVELS)


class SessionDetails(Schema):
    """The optional 统计表 fields of a session, checked alike when typed in and when synced."""

    class Meta:
        unknown = RAISE

    organizer = bounded_text(100, allow_none=True)      # 举办单位, js365's 主办单位
    undertaker = bounded_text(100, allow_none=True)     # 承办单位 (js365)
    summary = bounded_text(2000, allow_none=True)
    village = PlaceCode(allow_none=True)
    venue = bounded_text(200, allow_none=True)
    contact_name = bounded_text(50, allow_none=True)
    contact_phone = ContactPhone(allow_none=True)
    notes = bounded_text(500, allow_none=True)
    form_id = bounded_text(64, allow_none=True)
    hours = Float(allow_none=True, validate=validate.Range(min=0, max=24))
    venue_type = Choice(VENUE_TYPES, allow_none=True)
    groups_served = MultiChoice(GROUPS_SERVED, allow_none=True)
    safety_plan = fields.Boolean(allow_none=True)    # 安全工作方案/应急预案 on file
    theme_day = bounded_text(64, allow_none=True)    # a theme day of the session's year (records/theme_days.py)
    trainer_id = bounded_text(64, allow_none=True)   # the instructor who led it (records/trainers.py)


class SessionSchema(SessionDetails):
    class Meta:
        unknown = RAISE

    kind = Choice(SESSION_KINDS, required=True)
    title = bounded_text(100, min_len=1, required=True)
    mode = Choice(MODES, load_default="offline")
    starts_at = fields.DateTime(required=True, format="iso")
    ends_at = fields.DateTime(allow_none=True, format="iso")
    town = PlaceCode(required=True)

    @validates_schema
    def _ends_after_start(self, data, **kwargs):
        if data.get("ends_at") and data.get("starts_at") and data["ends_at"] < data["starts_at"]:
            raise ValidationError(_("The session ends before it starts."), "ends_at")


class SessionUpdateSchema(SessionSchema):
    class Meta:
        unknown = RAISE

    kind = Choice(SESSION_KINDS)
    title = bounded_text(100, min_len=1)
    starts_at = fields.DateTime(format="iso")
    town = PlaceCode(validate=_not_blank)


class CheckinSchema(Schema):
    """A scan as the kiosk or a station sends it."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(validate=validate.Regexp(r"^[0-9A-HJKMNP-TV-Z]{26}$",
                                                error=N_("Check-in id must be a ULID (26 characters).")))
    session = fields.String(required=True, validate=validate.Length(min=1, max=64))
    code = fields.String(validate=validate.Length(min=1, max=512))
    person = fields.String(validate=validate.Length(min=1, max=64))
    direction = fields.String(load_default="in", validate=validate.OneOf(["in", "out"]))
    station = fields.String(load_default="kiosk", validate=validate.Length(min=1, max=64))
    scanned_at = fields.DateTime(format="iso")
    method = fields.String(load_default="manual", validate=validate.OneOf(["manual", "walk-in"]))

    @validates_schema
    def _code_or_person(self, data, **kwargs):
        if not data.get("code") and not data.get("person"):
            raise ValidationError(_("Send the scanned code, or a person id for a manual check-in."), "code")


class PeopleQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=50))
    town = PlaceCode()
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "cancelled", "all"]))
    limit = Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = Integer(load_default=0, validate=validate.Range(min=0))


class SessionsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    town = PlaceCode()
    kind = Choice(SESSION_KINDS)
    include_cancelled = fields.Boolean(load_default=False)
    limit = Integer(load_default=200, validate=validate.Range(min=1, max=1000))


def load(schema: Schema, data) -> dict:
    """Load through a schema; raise our ValidationFailed naming every bad field."""
    from fieldsync.errors import from_marshmallow

    if not isinstance(data, dict):
        from fieldsync.errors import BadRequest

        raise BadRequest(_("Expected a JSON object."))
    try:
        return schema.load(data)
    except ValidationError as err:
        raise from_marshmallow(err) from None
