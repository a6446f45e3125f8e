"""The hub's theme-days page: the association's theme days of a year, which laptops take with
their next pull. Staff look; admins add, change and remove days, or start a year from the
default list. Views validate and call records/theme_days.py — no SQL here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, validate

from fieldsync.errors import FieldsyncError
from fieldsync.records import theme_days
from fieldsync.records.schemas import Integer, load
from fieldsync.reports import dashboard
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted
from fieldsync.store import clock

bp = Blueprint("theme_days", __name__, url_prefix="/hub/theme-days")


class YearQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    year = Integer(load_default=lambda: clock.today().year, validate=validate.Range(*theme_days.YEARS))


def _year() -> int:
    return load(YearQuery(), request.args.to_dict())["year"]


FORM = ("name", "starts_on", "ends_on")


@bp.get("/")
@require("staff")
def page():
    return _page(_year())


def _page(year: int, values: dict | None = None, error: FieldsyncError | None = None, editing: str | None = None):
    """The year's theme days; after a bad form, that form (the new day's, or the day `editing`) as typed."""
    db = get_store().db
    years = sorted(set(dashboard.years(db)) | {year, clock.today().year + 1}, reverse=True)
    return form_page("hub_theme_days.html", values or {}, error, year=year, years=years, editing=editing,
                     days=theme_days.for_year(db, year), defaults=theme_days.DEFAULTS)


@bp.post("/")
@require("admin")
def add():
    values = posted(FORM)
    try:
        day = theme_days.save(get_store(), values, actor=actor())
    except FieldsyncError as error:
        return _page(_year_of(values), values, error)
    flash(_("Added %(name)s.", name=day["name"]), "ok")
    return redirect(url_for(".page", year=day["year"]))


@bp.post("/<theme_day_id>")
@require("admin")
def change(theme_day_id):
    values = posted(FORM)
    try:
        day = theme_days.save(get_store(), values, theme_day_id=theme_day_id, actor=actor())
    except FieldsyncError as error:
        return _page(int(theme_days.get(get_store().db, theme_day_id)["year"]), values, error, theme_day_id)
    flash(_("Saved %(name)s.", name=day["name"]), "ok")
    return redirect(url_for(".page", year=day["year"]))


def _year_of(values: dict) -> int:
    """The year a new day's form was for: its first day's, else the page's."""
    first = values.get("starts_on") or ""
    return int(first[:4]) if first[:4].isdigit() and theme_days.YEARS[0] <= int(first[:4]) <= theme_days.YEARS[1] \
        else _year()


@bp.post("/<theme_day_id>/remove")
@require("admin")
def remove(theme_day_id):
    store = get_store()
    day = theme_days.get(store.db, theme_day_id)
    theme_days.delete(store, theme_day_id, actor=actor())
    flash(_("Removed %(name)s.", name=day["name"]), "ok")
    return redirect(url_for(".page", year=day["year"]))


@bp.post("/seed")
@require("admin")
def seed():
    year = _year()
    added = theme_days.seed(get_store(), year, actor=actor())
    flash(_("Added the default theme days of %(year)s.", year=year) if added
          else _("%(year)s already has its theme days.", year=year), "ok")
    return redirect(url_for(".page", year=year))
