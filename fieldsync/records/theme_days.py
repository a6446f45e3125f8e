"""Theme days (主题日): the association's list for each year, which activities are tagged with.

The 威海 plan (shared/seeds/000) and the 临汾 notice (001) time activities to
劳动节, the 全民健身月 in May, 6月10日, 8月8日全民健身日, 国庆节 and 12月5日
国际志愿者日; the association edits that list per year (a day moved, one added).
The hub owns the list and publishes it to every laptop (sync entity
`theme_days`, like forms: decision 0141); a laptop takes it whole and tags its
activities from it. The defaults below seed a year on `init --hub` and `demo`,
and on the hub page for a year that has no list yet, with ids made from the
year, so seeding twice, or on two machines, gives the same rows.
"""

from __future__ import annotations

from datetime import date

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)
from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records.schemas import load
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change

ENTITY = "theme_days"
# (code, name, first day, last day): the seeds' theme days, May the whole month.
DEFAULTS = (
    ("labour-day", "劳动节", "05-01", "05-01"),
    ("fitness-month", "全民健身月", "05-01", "05-31"),
    ("june-10", "毛泽东发展体育运动题词纪念日", "06-10", "06-10"),
    ("fitness-day", "全民健身日", "08-08", "08-08"),
    ("national-day", "国庆节", "10-01", "10-01"),
    ("volunteer-day", "国际志愿者日", "12-05", "12-05"),
)
YEARS = (2000, 2100)


class ThemeDaySchema(Schema):
    """A theme day as the hub's page or API sends it; the year is the year of its first day."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)

    @validates_schema
    def _one_year_in_order(self, data, **kwargs):
        start, end = data.get("starts_on"), data.get("ends_on") or data.get("starts_on")
        if start and not YEARS[0] <= start.year <= YEARS[1]:
            raise ValidationError(_("Not a year between %(first)s and %(last)s.", first=YEARS[0], last=YEARS[1]),
                                  "starts_on")
        if start and end and (end < start or end.year != start.year):
            raise ValidationError(_("The last day comes on or after the first, in the same year."), "ends_on")


def for_year(db: Database, year: int) -> list[dict]:
    return list(db.query("SELECT id, year, name, starts_on, ends_on FROM theme_days WHERE year = ?"
                         " ORDER BY starts_on, ends_on DESC, name", [year]))


def around(db: Database, starts_at: str | None) -> list[dict]:
    """What a session form offers: the theme days of last year, this year and next, and of the
    session's own year."""
    this_year = clock.today().year
    years = {this_year - 1, this_year, this_year + 1}
    if str(starts_at or "")[:4].isdigit():
        years.add(int(str(starts_at)[:4]))
    return [day for year in sorted(years) for day in for_year(db, year)]


def get(db: Database, theme_day_id: str) -> dict:
    row = next(db.query("SELECT * FROM theme_days WHERE id = ?", [theme_day_id]), None)
    if row is None:
        raise NotFound(_("No theme day %(id)s.", id=theme_day_id), code="theme_day_not_found")
    return row


def suggest(db: Database, day: str) -> dict | None:
    """The theme day a date serves: of those it falls in, the shortest (劳动节 before 全民健身月).
    The session form's script (static/session-form.js) suggests by the same rule as you type."""
    day = day[:10]
    matching = [d for d in for_year(db, int(day[:4])) if d["starts_on"] <= day <= d["ends_on"]] \
        if day[:4].isdigit() else []
    return min(matching, key=lambda d: (_length(d), d["name"]), default=None)


def _length(day: dict) -> int:
    return (date.fromisoformat(day["ends_on"]) - date.fromisoformat(day["starts_on"])).days


def check_tag(db: Database, theme_day_id: str | None, starts_at: str | None) -> None:
    """A session's theme day must be one of its own year's."""
    if not theme_day_id:
        return
    row = next(db.query("SELECT year, name FROM theme_days WHERE id = ?", [theme_day_id]), None)
    if row is None:
        raise ValidationFailed(_("No theme day %(id)s; choose one of the year's list.", id=theme_day_id),
                               fields={"theme_day": [_("Unknown theme day.")]})
    if starts_at and str(starts_at)[:4] != str(row["year"]):
        raise ValidationFailed(_("%(name)s is a theme day of %(year)s; the activity is held in %(held)s.",
                                 name=row["name"], year=row["year"], held=str(starts_at)[:4]),
                               fields={"theme_day": [_("Not a theme day of that year.")]})


def _write(db: Database, store: Store, row: dict, actor: str | None, *, publish: bool = True) -> dict:
    hlc = store.hlc.now()
    stored = {**row, "hlc": hlc, "updated_at": utc_now(), "updated_by": actor}
    db["theme_days"].upsert(stored, pk="id")
    if publish:   # the hub's outbox row: its next pulls carry the day to every laptop
        record_change(db, ENTITY, stored["id"], "upsert", hlc, stored)
    return stored


def save(store: Store, data: dict, *, theme_day_id: str | None = None, actor: str | None = None) -> dict:
    """Add a theme day, or change one (its year follows its first day)."""
    values = load(ThemeDaySchema(), data)
    start = values["starts_on"]
    row = {"id": theme_day_id or new_id(), "year": start.year, "name": values["name"].strip(),
           "starts_on": start.isoformat(), "ends_on": (values.get("ends_on") or start).isoformat()}

    def work(db: Database) -> dict:
        if theme_day_id:
            current = get(db, theme_day_id)
            used = _tagged(db, theme_day_id)
            if used and current["year"] != row["year"]:
                raise Conflict(_("%(n)s activities of %(year)s are tagged with %(name)s; it stays in that year.",
                                 n=used, year=current["year"], name=current["name"]), code="theme_day_in_use")
        return _write(db, store, row, actor)

    return store.write(work)


def delete(store: Store, theme_day_id: str, *, actor: str | None = None) -> None:
    """Remove a theme day no activity is tagged with; laptops drop it at their next pull."""
    def work(db: Database) -> None:
        day = get(db, theme_day_id)
        used = _tagged(db, theme_day_id)
        if used:
            raise Conflict(_("%(n)s activities are tagged with %(name)s; tag them otherwise first.", n=used,
                             name=day["name"]), code="theme_day_in_use")
        db.execute("DELETE FROM theme_days WHERE id = ?", [theme_day_id])
        record_change(db, ENTITY, theme_day_id, "delete", store.hlc.now(), {"by": actor})

    store.write(work)


def _tagged(db: Database, theme_day_id: str) -> int:
    return db.execute("SELECT COUNT(*) FROM sessions WHERE theme_day = ?", [theme_day_id]).fetchone()[0]


def seed(store: Store, year: int, *, actor: str | None = None, publish: bool = True) -> int:
    """The default theme days for a year that has none yet; returns how many were added. A hub
    publishes them; a laptop on its own (the node demo) keeps them: it pushes no theme days."""
    def work(db: Database) -> int:
        if for_year(db, year):
            return 0
        for code, name, first, last in DEFAULTS:
            _write(db, store, {"id": f"{year}-{code}", "year": year, "name": name,
                               "starts_on": f"{year}-{first}", "ends_on": f"{year}-{last}"}, actor,
                   publish=publish)
        return len(DEFAULTS)

    return store.write(work)
