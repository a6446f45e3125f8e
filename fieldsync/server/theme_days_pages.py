"""The hub's theme-days page: the association's theme days of a year, which laptops take with
their next pull. Staff look; admins add, change and remove days, or start a year from the
default list. Views validate and call records/theme_days.py — no SQL here.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, validate

from fieldsync.records import theme_days
from fieldsync.records.schemas import Integer, load
from fieldsync.reports import dashboard
from fieldsync.server.auth import require
from fieldsync.server.extensions import get_store

bp = Blueprint("theme_days", __name__, url_prefix="/hub/theme-days")


class YearQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    year = Integer(load_default=lambda: date.today().year, validate=validate.Range(*theme_days.YEARS))


def _year() -> int:
    return load(YearQuery(), request.args.to_dict())["year"]


def _posted() -> dict:
    return {key: request.form.get(key, "").strip() or None for key in ("name", "starts_on", "ends_on")}


@bp.get("/")
@require("staff")
def page():
    db, year = get_store().db, _year()
    years = sorted(set(dashboard.years(db)) | {year, date.today().year + 1}, reverse=True)
    return render_template("hub_theme_days.html", year=year, years=years, days=theme_days.for_year(db, year),
                           defaults=theme_days.DEFAULTS)


@bp.post("/")
@require("admin")
def add():
    day = theme_days.save(get_store(), _posted(), actor=g.user["username"])
    flash(_("Added %(name)s.", name=day["name"]), "ok")
    return redirect(url_for(".page", year=day["year"]))


@bp.post("/<theme_day_id>")
@require("admin")
def change(theme_day_id):
    day = theme_days.save(get_store(), _posted(), theme_day_id=theme_day_id, actor=g.user["username"])
    flash(_("Saved %(name)s.", name=day["name"]), "ok")
    return redirect(url_for(".page", year=day["year"]))


@bp.post("/<theme_day_id>/remove")
@require("admin")
def remove(theme_day_id):
    store = get_store()
    day = theme_days.get(store.db, theme_day_id)
    theme_days.delete(store, theme_day_id, actor=g.user["username"])
    flash(_("Removed %(name)s.", name=day["name"]), "ok")
    return redirect(url_for(".page", year=day["year"]))


@bp.post("/seed")
@require("admin")
def seed():
    year = _year()
    added = theme_days.seed(get_store(), year, actor=g.user["username"])
    flash(_("Added the default theme days of %(year)s.", year=year) if added
          else _("%(year)s already has its theme days.", year=year), "ok")
    return redirect(url_for(".page", year=year))
