"""结对子's pages on the hub: the sports organisations, and each pairing with its fruit.

Organisations are the association's list, shared by every town (decision 0231): accounts
confined to some towns read it, and only an account of the whole hub adds or changes one.
A pairing's page shows its activities, the people reached, its fitness teams (健身团队) and
the local leaders found there; teams and leaders are added there by accounts whose units
hold the pairing's town (reports/pairings.get asks records/scope.py). Pairings themselves
are added from a town's dashboard, as before. Views validate and call reports/ — no SQL here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.errors import Forbidden
from fieldsync.records import people, scope
from fieldsync.records.schemas import Integer, load
from fieldsync.reports import organisations, pairings, units
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store

bp = Blueprint("pairings_pages", __name__, url_prefix="/hub")
RECORD_ID = validate.Length(min=1, max=64)


class TeamForm(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    formed_on = fields.Date(load_default=None)
    members = Integer(load_default=None, validate=validate.Range(min=0, max=100_000))


class LeaderForm(Schema):
    class Meta:
        unknown = EXCLUDE

    person = fields.String(required=True, validate=RECORD_ID)


def _form() -> dict:
    """The posted fields but the token, blanks as absent (optional fields take their defaults)."""
    return {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip() != ""}


def _whole_hub() -> None:
    """Organisations are shared by every town: an account confined to some towns reads them only."""
    if scope.units():
        raise Forbidden(_("Organisations are kept by the association for every town."), code="outside_units")


@bp.get("/organisations")
@require("staff")
def organisations_page():
    return render_template("hub_organisations.html", organisations=organisations.listing(get_store().db),
                           kinds=organisations.KINDS, editable=not scope.units())


@bp.post("/organisations")
@require("staff")
def organisation_new():
    _whole_hub()
    saved = organisations.save(get_store(), _form(), actor=actor())
    flash(_("Saved %(name)s.", name=saved["name"]), "ok")
    return redirect(url_for(".organisations_page"))


@bp.post("/organisations/<organisation_id>")
@require("staff")
def organisation_edit(organisation_id):
    _whole_hub()
    saved = organisations.save(get_store(), _form(), organisation_id=organisation_id, actor=actor())
    flash(_("Saved %(name)s.", name=saved["name"]), "ok")
    return redirect(url_for(".organisations_page"))


@bp.get("/pairings/<pairing_id>")
@require("staff")
def pairing_page(pairing_id):
    db = get_store().db
    pair = pairings.get(db, pairing_id)
    # Leaders are found among the paired community's people.
    candidates = people.search(get_store(), "", limit=500, village=pair["village"])
    return render_template("hub_pairing.html", pair=pair, organisation=organisations.get(db, pair["organisation_id"]),
                           activities=pairings.activities(db, pairing_id), teams=pairings.teams(db, pairing_id),
                           leaders=pairings.leaders(db, pairing_id), candidates=candidates, names=units.names(db))


@bp.post("/pairings/<pairing_id>/teams")
@require("staff")
def team_new(pairing_id):
    pairings.add_team(get_store(), pairing_id, load(TeamForm(), _form()), actor=actor())
    flash(_("Fitness team added."), "ok")
    return redirect(url_for(".pairing_page", pairing_id=pairing_id) + "#teams")


@bp.post("/pairings/<pairing_id>/leaders")
@require("staff")
def leader_new(pairing_id):
    pairings.recruit(get_store(), pairing_id, load(LeaderForm(), _form())["person"], actor=actor())
    flash(_("Leader recorded."), "ok")
    return redirect(url_for(".pairing_page", pairing_id=pairing_id) + "#leaders")
