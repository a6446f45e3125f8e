"""The 最美社会体育指导员 selection, on a town laptop and on the hub.

The year's nominees side by side (cards on a phone, columns on a laptop), each with the record
behind the nomination, its result and history, and whether the person consents to be shown in
public. Town staff nominate their own town's people and record consent; on the hub the
association also writes the results. Views validate and call records/awards.py and
records/consents.py (decision 0240) — no SQL here.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.errors import Forbidden
from fieldsync.records import awards, consents, people, scope
from fieldsync.records.schemas import Integer, load
from fieldsync.reports import units
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store

bp = Blueprint("awards", __name__, url_prefix="/awards")


class YearArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    year = Integer(load_default=None, validate=validate.Range(min=awards.FIRST_YEAR, max=awards.LAST_YEAR))
    q = fields.String(load_default="", validate=validate.Length(max=50))
    person = fields.String(load_default=None, validate=validate.Length(min=1, max=64))   # from a person's page


class NominationForm(Schema):
    class Meta:
        unknown = EXCLUDE

    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    year = Integer(required=True, validate=validate.Range(min=awards.FIRST_YEAR, max=awards.LAST_YEAR))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DecisionForm(Schema):
    class Meta:
        unknown = EXCLUDE

    decision = fields.String(required=True, validate=validate.OneOf(awards.DECISIONS))
    note = fields.String(load_default=None, validate=validate.Length(max=300))


class ConsentForm(Schema):
    class Meta:
        unknown = EXCLUDE

    action = fields.String(required=True, validate=validate.OneOf(consents.ACTIONS))
    given_on = fields.Date(load_default=None)
    year = Integer(load_default=None, validate=validate.Range(min=awards.FIRST_YEAR, max=awards.LAST_YEAR))


def _hub() -> bool:
    return current_app.config["MODE"] == "hub"


def _form(schema: Schema) -> dict:
    return load(schema, {k: v.strip() for k, v in request.form.items() if v.strip()})


def _unit() -> str | None:
    """Whose name a nomination goes in: the laptop's town; on the hub the account's first unit, else the hub's."""
    if not _hub():
        return current_app.config.get("TOWN")
    return (scope.units() or (units.top(get_store().db)["code"],))[0]


@bp.get("/")
@require("staff")
def page():
    args = load(YearArgs(), request.args.to_dict())
    year = args["year"] or date.today().year
    db = get_store().db
    nominees = awards.of_year(db, year)
    return render_template("awards.html", year=year, nominees=nominees, names=units.names(db),
                           steps={n["id"]: awards.steps(db, n["id"]) for n in nominees},
                           consent_steps={n["person_id"]: consents.steps(db, n["person_id"]) for n in nominees},
                           decides=_hub() and awards.may_decide(db), today=date.today().isoformat())


@bp.get("/nominate")
@require("staff")
def nominate_page():
    args = load(YearArgs(), request.args.to_dict())
    store = get_store()
    found = [people.get(store, args["person"])] if args["person"] else (
        people.search(store, args["q"], limit=20) if args["q"] else [])
    return render_template("awards_nominate.html", year=args["year"] or date.today().year, q=args["q"],
                           found=found, names=units.names(store.db))


@bp.post("/nominate")
@require("staff")
def nominate():
    form = _form(NominationForm())
    awards.nominate(get_store(), form["person_id"], form["year"], form["reason"], actor=actor(),
                    unit=_unit())
    flash(_("Nominated."), "ok")
    return redirect(url_for(".page", year=form["year"]))


@bp.post("/<nomination_id>/refresh")
@require("staff")
def refresh(nomination_id):
    row = awards.refresh(get_store(), nomination_id, hub=_hub())
    flash(_("The record behind the nomination is taken again."), "ok")
    return redirect(url_for(".page", year=row["year"]))


@bp.post("/<nomination_id>/decide")
@require("staff")
def decide(nomination_id):
    if not _hub():
        raise Forbidden(code="hub_only")
    form = _form(DecisionForm())
    store = get_store()
    awards.decide(store, nomination_id, form["decision"], form["note"], actor=actor())
    flash(_("Result recorded."), "ok")
    return redirect(url_for(".page", year=awards.get(store.db, nomination_id)["year"]))


@bp.post("/consent/<person_id>")
@require("staff")
def consent(person_id):
    form = _form(ConsentForm())
    given_on = form["given_on"].isoformat() if form["given_on"] else None
    consents.record(get_store(), person_id, form["action"], given_on=given_on, recorded_by=actor())
    flash(_("Consent recorded.") if form["action"] == "give" else _("Consent withdrawn."), "ok")
    return redirect(url_for(".page", year=form["year"]))
