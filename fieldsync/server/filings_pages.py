"""The hub's filings page (报送统计表, decision 0150): file this hub's 统计表 for a year, see its
versions; at a parent, set the year's deadline and see each child unit's filing, on time, late
or missing, and what changed between its versions. Staff file and look; admins set deadlines.
Views validate and call reports/filings.py — no SQL here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, validate

from fieldsync import sheets
from fieldsync.errors import Conflict, FieldsyncError, Forbidden, ValidationFailed
from fieldsync.records import scope
from fieldsync.records.schemas import Integer, load
from fieldsync.reports import filing_reviews, filings
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted
from fieldsync.store import clock

bp = Blueprint("filings", __name__, url_prefix="/hub/filings")


@bp.before_request
def _whole_unit() -> None:
    """A filing speaks for the hub's whole unit: an account limited to some towns or counties
    (users.set_units) neither files nor sees nor decides on the filings of the units below."""
    if scope.clause()[0] is not None:
        raise Forbidden(_("Filings are for accounts of the whole unit, not limited to some places."),
                        code="outside_units")


class YearQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    year = Integer(load_default=lambda: clock.today().year, validate=validate.Range(*filings.YEARS))


def _year() -> int:
    return load(YearQuery(), {**request.args.to_dict(), **request.form.to_dict()})["year"]


@bp.get("/")
@require("staff")
def page():
    return _page(_year())


def _page(year: int, values: dict | None = None, error: FieldsyncError | None = None, form: str = ""):
    """The year's filings; after a bad form (`form`: 'deadline' or a unit's decision) that form as typed."""
    db = get_store().db
    home = filings.own_unit(db)
    period = filings.period_of(year)
    due, children = filings.status(db, year)
    return form_page("hub_filings.html", values or {}, error, form=form, year=year, home=home, due=due,
                     own=filings.versions(db, home["code"], period), review=filings.review_of(db, home["code"], period),
                     children=children)


@bp.post("/file")
@require("staff")
def file():
    row = filings.file(get_store(), _year(), actor=actor())
    flash(_("Filed %(title)s, version %(version)s.", title=row["title"], version=row["version"]), "ok")
    return redirect(url_for(".page", year=row["period"]))


@bp.post("/deadline")
@require("admin")
def deadline():
    year, values = _year(), posted(("due_on",))
    try:
        due = filings.set_deadline(get_store(), year, values["due_on"] or "", actor=actor())
    except FieldsyncError as error:
        return _page(year, values, error, form="deadline")
    flash(_("Filings for %(year)s are due by %(due)s.", year=year, due=due), "ok")
    return redirect(url_for(".page", year=year))


@bp.post("/units/<unit>/decide")
@require("admin")
def decide(unit):
    year, values = _year(), posted(("state", "reason"))
    try:
        row = filing_reviews.decide(get_store(), unit, year, values["state"] or "", reason=values["reason"],
                                    actor=actor())
    except (ValidationFailed, Conflict) as error:   # an unknown unit's filing stays a 404 page
        return _page(year, values, error, form=unit)
    flash({"accepted": _("Accepted version %(version)s.", version=row["version"]),
           "returned": _("Returned version %(version)s.", version=row["version"]),
           "reopened": _("Reopened %(year)s.", year=year)}[row["state"]], "ok")
    return redirect(url_for(".page", year=year))


@bp.get("/<filing_id>.xlsx")
@require("staff")
def download(filing_id):
    row = filings.get(get_store().db, filing_id)
    name = f"statistics-{row['unit']}-{row['period']}-v{row['version']}.xlsx"
    return Response(row["xlsx"], content_type=sheets.CONTENT_TYPES["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/<filing_id>/changes")
@require("staff")
def changes(filing_id):
    """What this version changed against the one before it (or the version `against`)."""
    db = get_store().db
    newer = filings.get(db, filing_id)
    earlier = [v for v in filings.versions(db, newer["unit"], newer["period"]) if v["version"] < newer["version"]]
    against = request.args.get("against") or (earlier[0]["id"] if earlier else None)
    diff = filings.changes(db, against, filing_id) if against else None
    return render_template("hub_filing_changes.html", filing=newer, older=filings.get(db, against) if against else None,
                           diff=diff, columns=filings.statistics_xlsx.COLUMNS)
