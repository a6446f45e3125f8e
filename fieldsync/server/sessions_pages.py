"""The node's session pages: the list, a session's page with its attendees, create, edit, cancel."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from fieldsync import labels
from fieldsync.errors import FieldsyncError
from fieldsync.forms import catalogue
from fieldsync.i18n import N_
from fieldsync.records import checkins, places, sessions, theme_days
from fieldsync.records.schemas import SessionSchema, SessionsQuery, load
from fieldsync.reports import statistics_xlsx
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import (
    Action,
    active,
    confirm,
    form_page,
    home_town,
    place_choices,
    posted,
    present,
)
from fieldsync.sync.downstream import doubles

bp = Blueprint("sessions_pages", __name__)
SESSION_FORM = ("kind", "title", "organizer", "undertaker", "summary", "mode", "starts_at", "ends_at", "town", "village",
                "venue", "contact_name", "contact_phone", "notes", "hours", "form_id", "venue_type", "groups_served",
                "safety_plan", "theme_day")
SESSION_CANCEL = Action(
    N_("Cancel session"), N_("Cancel %(name)s? The kiosk stops taking scans for it; its check-ins stay."),
    N_("%(name)s is cancelled."), lambda store, sid, actor: sessions.cancel(store, sid, actor=actor), active)


@bp.get("/sessions")
@require("staff")
def sessions_page():
    query = load(SessionsQuery(), {"include_cancelled": "true", **request.args.to_dict()})
    return render_template("sessions.html", sessions=sessions.listing(get_store(), **query), query=query)


@bp.get("/sessions/<session_id>")
@require("staff")
def session_page(session_id):
    store = get_store()
    session = sessions.get(store, session_id)
    names = places.names(store)
    return render_template("session.html", session=session, attendees=checkins.attendees(store, session_id),
                           doubles=doubles.of_session(store.db, session_id),
                           filed_notes=statistics_xlsx.notes_of(store.db, session),
                           town=names.get(session["town"], session["town"]),
                           village=names.get(session["village"], ""), cancel=SESSION_CANCEL)


@bp.route("/sessions/new", methods=["GET", "POST"])
@require("staff")
def session_new():
    store = get_store()
    if request.method == "GET":
        return _session_form(store, {"town": home_town(), "mode": "offline", "kind": "training"})
    values = _session_posted()
    try:
        session = sessions.create(store, load(SessionSchema(), present(values)), actor=actor())
    except FieldsyncError as error:
        return _session_form(store, values, error)
    flash(_("Created %(title)s.", title=session["title"]), "ok")
    return redirect(url_for(".session_page", session_id=session["id"]))


@bp.route("/sessions/<session_id>/edit", methods=["GET", "POST"])
@require("staff")
def session_edit(session_id):
    store = get_store()
    session = sessions.get(store, session_id)
    if request.method == "GET":
        return _session_form(store, session, session=session)
    values = _session_posted()
    try:
        sessions.modify(store, session_id, load(SessionSchema(), values), actor=actor())
    except FieldsyncError as error:
        return _session_form(store, values, error, session=session)
    flash(_("Saved the changes to %(title)s.", title=values["title"]), "ok")
    return redirect(url_for(".session_page", session_id=session_id))


def _session_posted() -> dict:
    """The session form's values; the groups served are ticked boxes, one value each."""
    return {**posted(SESSION_FORM), "groups_served": ",".join(request.form.getlist("groups_served")) or None}


def _session_form(store, values: dict, error: FieldsyncError | None = None, session: dict | None = None):
    lang = "en" if str(get_locale()) == "en" else "zh"
    forms = {form["id"]: form["title"].get(lang) or form["id"] for form in catalogue.listing(store)}
    return form_page("session_form.html", values, error, session=session, choices=place_choices(store),
                     forms=forms, venue_types=labels.terms("venue_type"), groups_served=labels.terms("group"),
                     theme_days=theme_days.around(store.db, values.get("starts_at")))


@bp.route("/sessions/<session_id>/cancel", methods=["GET", "POST"])
@require("staff")
def session_cancel(session_id):
    session = sessions.get(get_store(), session_id)
    return confirm(SESSION_CANCEL, session_id, session["title"],
                    url_for(".session_page", session_id=session_id))
