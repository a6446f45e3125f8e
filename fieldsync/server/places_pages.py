"""The hub's places page: a unit's places with their population per year, and its yearly
targets with where each comes from. Staff look; admins change figures and targets.
Views validate with marshmallow and call records/ and reports/ — no SQL here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.errors import FieldsyncError
from fieldsync.records import place_import, populations
from fieldsync.records.schemas import PlaceCode, load
from fieldsync.reports import dashboard, targets, units
from fieldsync.reports.schemas import UnitYearQuery
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted, present

bp = Blueprint("places_pages", __name__, url_prefix="/hub/places")


class PlacesQuery(UnitYearQuery):
    unit = PlaceCode()


class PopulationForm(Schema):
    class Meta:
        unknown = EXCLUDE

    code = PlaceCode(required=True)
    year = fields.Integer(required=True, validate=validate.Range(min=1949, max=2100))
    population = fields.String(load_default="", validate=validate.Length(max=20))


class TargetsForm(Schema):
    class Meta:
        unknown = EXCLUDE

    unit = PlaceCode(required=True)
    year = fields.Integer(required=True, validate=validate.Range(min=1949, max=2100))
    per_1000 = fields.Float(allow_none=True, load_default=None, validate=validate.Range(min=0, max=100))
    trained = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=10_000_000))
    monitored = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=10_000_000))
    activities = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=1_000_000))


TARGET_FORM = ("unit", "year", "per_1000", "trained", "monitored", "activities")


@bp.get("/")
@require("staff")
def places_page():
    return _page(load(PlacesQuery(), request.args.to_dict()))


def _page(query: dict, values: dict | None = None, error: FieldsyncError | None = None, form: str = ""):
    """The unit's places; after a bad form (`form`: 'targets' or a place's code) that form as typed."""
    db = get_store().db
    unit = units.resolve(db, query.get("unit") or query.get("town") or query.get("county"), query["year"])
    rows = populations.listing(get_store(), unit.code)
    for row in rows:
        row["figure"] = populations.for_year(db, [row["code"]], query["year"]).get(row["code"])
        row["history"] = place_import.history(get_store(), row["code"])
    return form_page("hub_places.html", values or {}, error, form=form, unit=unit, year=query["year"], rows=rows,
                     years=dashboard.years(db), counties=dashboard.counties_and_towns(db),
                     applied=targets.applied(db, unit.code, query["year"]), labels=targets.LABELS,
                     names=units.names(db))


@bp.post("/population")
@require("admin")
def population_set():
    values = posted(("code", "year", "population"))
    try:
        data = load(PopulationForm(), present(values))
        populations.set_one(get_store(), data["code"], data["year"], data["population"], actor=actor())
    except FieldsyncError as error:
        return _page(load(PlacesQuery(), request.args.to_dict()), values, error, form=values["code"] or "")
    flash(_("Population saved."), "ok")
    return redirect(url_for(".places_page", **request.args))


@bp.post("/targets")
@require("admin")
def targets_set():
    values = posted(TARGET_FORM)
    try:
        data = load(TargetsForm(), present(values))
        unit, year = data.pop("unit"), data.pop("year")
        # A figure the parent hub set is shown disabled, so not posted: it is left as it is.
        figures = {figure: value for figure, value in data.items() if figure in request.form}
        targets.set_targets(get_store(), unit, year, figures, actor=actor())
    except FieldsyncError as error:
        query = load(PlacesQuery(), present({"unit": values["unit"], "year": values["year"]}))
        return _page(query, values, error, form="targets")
    flash(_("Targets saved; empty fields follow the default."), "ok")
    return redirect(url_for(".places_page", unit=unit, year=year))
