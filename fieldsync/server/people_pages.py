"""The node's people pages: the roster (注册/修改/注销), a person's page, promotion (晋级), and the
actions that ask first (注销, restore, badges)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import validate

from fieldsync import labels
from fieldsync.errors import FieldsyncError, Forbidden
from fieldsync.i18n import N_
from fieldsync.records import badges, people, places, roster_export
from fieldsync.records.schemas import Integer, PersonSchema, PromotionSchema, load
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import (
    Action,
    active,
    confirm,
    form_errors,
    form_page,
    home_town,
    may_roster,
    place_choices,
    posted,
    present,
)

bp = Blueprint("people_pages", __name__)
PAGE_SIZE = 50
PERSON_FORM = ("name", "gender", "birth_year", "phone", "id_number", "town", "village", "level",
               "specialty", "certificate_no", "registered_at")


class PeoplePage(roster_export.RosterFilter):
    page = Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class PersonEdit(PersonSchema):
    """修改 from the person page: every field but the level, which changes by promotion only."""

    class Meta:
        exclude = ("level",)


@bp.get("/people")
@require("staff")
def people_page():
    store = get_store()
    query = load(PeoplePage(), request.args.to_dict())
    number = query.pop("page")
    found, total = people.page(store, query, number=number, size=PAGE_SIZE)
    filters = {k: v for k, v in query.items() if v and not (k == "status" and v == "active")}
    return render_template("people.html", people=[people.masked(p) for p in found], total=total,
                           page=number, pages=max(1, -(-total // PAGE_SIZE)), filters=filters,
                           query=query, choices=place_choices(store), names=places.names(store))


@bp.route("/people/new", methods=["GET", "POST"])
@require("staff")
def person_new():
    store = get_store()
    if request.method == "GET":
        return _person_form(store, {"town": home_town(), "level": "none"})
    values = posted(PERSON_FORM)
    try:
        person = people.register(store, load(PersonSchema(), present(values)), actor=actor())
    except FieldsyncError as error:
        return _person_form(store, values, error)
    flash(_("Registered %(name)s (注册).", name=person["name"]), "ok")
    return redirect(url_for(".person_page", person_id=person["id"]))


@bp.route("/people/<person_id>/edit", methods=["GET", "POST"])
@require("staff")
def person_edit(person_id):
    store = get_store()
    person = people.get(store, person_id)
    if request.method == "GET":
        return _person_form(store, person, person=person)
    values = posted(tuple(f for f in PERSON_FORM if f != "level"))
    if values["id_number"] is None:
        del values["id_number"]  # the form shows it masked: left empty, it stays as it is
    try:
        people.modify(store, person_id, load(PersonEdit(), values), actor=actor())
    except FieldsyncError as error:
        return _person_form(store, values, error, person=person)
    flash(_("Saved the changes to %(name)s (修改).", name=values["name"]), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


def _person_form(store, values: dict, error: FieldsyncError | None = None, person: dict | None = None):
    return form_page("person_form.html", values, error, person=person, choices=place_choices(store))


@bp.get("/people/<person_id>")
@require("staff")
def person_page(person_id):
    return _person_view(get_store(), person_id)


@bp.post("/people/<person_id>/promote")
@require("staff")
def person_promote(person_id):
    store = get_store()
    person = people.get(store, person_id)
    values = posted(("level", "certificate_no"))
    try:
        promotion = load(PromotionSchema(), present(values))
        people.promote(store, person_id, promotion["level"], promotion["certificate_no"], actor=actor())
    except FieldsyncError as error:
        return _person_view(store, person_id, values, form_errors(error), error.status)
    flash(_("%(name)s is now %(level)s.", name=person["name"], level=labels.term(values["level"], "level")), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


def _person_view(store, person_id: str, promotion: dict | None = None, errors: dict | None = None,
                 status: int = 200):
    person = people.get(store, person_id)
    names = places.names(store)
    return render_template(
        "person.html", person=person, names=names, errors=errors or {},
        actions={verb: action for verb, action in PERSON_ACTIONS.items() if may_roster(verb)},
        promotion=promotion or {"level": person["level"], "certificate_no": person["certificate_no"]},
        history=labels.readable_history(people.history(store, person_id), names)), status


PERSON_ACTIONS = {
    "cancel": Action(
        N_("Cancel registration (注销)"),
        N_("Cancel the registration of %(name)s? Their badge stops working at the kiosk. "
           "The history stays, and the registration can be restored."),
        N_("The registration of %(name)s is cancelled (注销)."),
        lambda store, pid, actor: people.cancel(store, pid, actor=actor), active),
    "restore": Action(
        N_("Restore registration"), N_("Restore the registration of %(name)s? Their badge works again."),
        N_("The registration of %(name)s is restored."),
        lambda store, pid, actor: people.restore(store, pid, actor=actor), lambda p: not active(p)),
    "revoke-badge": Action(
        N_("Revoke badge"),
        N_("Revoke every badge %(name)s holds now, for a lost or stolen card? Print a new one with Reissue badge."),
        N_("Every badge of %(name)s printed so far is revoked."),
        lambda store, pid, actor: badges.revoke(store, pid, reason="lost"), active),
    "reissue-badge": Action(
        N_("Reissue badge"), N_("Print a new badge for %(name)s? Every older card of theirs stops working."),
        N_("New badge for %(name)s: print it now."),
        lambda store, pid, actor: badges.reissue(store, pid, actor=actor), active),
}
@bp.route("/people/<person_id>/<any(cancel, restore, 'revoke-badge', 'reissue-badge'):verb>",
          methods=["GET", "POST"])
@require("staff")
def person_action(person_id, verb):
    if not may_roster(verb):
        raise Forbidden(_("On the city hub only an admin may do this: it reaches every town."),
                        code="role_forbidden")
    person = people.get(get_store(), person_id)
    back = url_for(".person_page", person_id=person_id)
    then = url_for("roster_pages.badge_page", person=person_id) if verb == "reissue-badge" else None
    return confirm(PERSON_ACTIONS[verb], person_id, person["name"], back, then)
