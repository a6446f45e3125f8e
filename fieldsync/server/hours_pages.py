"""Reviewing an activity's volunteer hours (待审核), on a town laptop and on the hub.

The list shows the ended activities of the account's towns waiting for review; a session's
page shows its attendees (in, out, credited, estimated), its history, and the three steps:
approve, correct one person's hours with a reason, reject with a reason. Views validate and
call records/hour_reviews.py (decision 0170) — no SQL here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.errors import FieldsyncError
from fieldsync.records import hour_reviews
from fieldsync.records.schemas import load
from fieldsync.reports import hours, units
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted, present
from fieldsync.store import clock

bp = Blueprint("hours_review", __name__, url_prefix="/hours/review")


class ReviewForm(Schema):
    class Meta:
        unknown = EXCLUDE

    action = fields.String(required=True, validate=validate.OneOf(hour_reviews.ACTIONS))
    person_id = fields.String(load_default=None, validate=validate.Length(max=64))
    hours = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=0, max=24))
    reason = fields.String(load_default=None, validate=validate.Length(max=200))


def _towns_json() -> str | None:
    """The hub's own unit (a laptop holds its town's sessions only); the account's units apply too."""
    return units.resolve(get_store().db).towns_json if current_app.config["MODE"] == "hub" else None


@bp.get("/")
@require("staff")
def waiting_page():
    db = get_store().db
    return render_template("hours_review_list.html", names=units.names(db),
                           waiting=hour_reviews.waiting(db, hours.VOLUNTEER_KINDS, _towns_json()))


@bp.get("/<session_id>")
@require("staff")
def session_page(session_id):
    return _session_view(session_id)


def _session_view(session_id: str, values: dict | None = None, error: FieldsyncError | None = None):
    """A session's hours; after a bad review form, that form (values["action"]) as typed."""
    db = get_store().db
    session = hour_reviews.session(db, session_id)
    return form_page("hours_review_session.html", values or {}, error, session=session, names=units.names(db),
                     attendees=hour_reviews.attendees(db, session_id),
                     steps=hour_reviews.steps(db, session_id), verdict=hour_reviews.verdict(db, session_id),
                     ended=bool(session["ends"]) and session["ends"] <= clock.minute(),
                     cap=hour_reviews.ESTIMATE_CAP_MINUTES // 60)


@bp.post("/<session_id>")
@require("staff")
def review(session_id):
    values = posted(("action", "person_id", "hours", "reason"))
    try:
        form = load(ReviewForm(), present(values))
        minutes = round(form["hours"] * 60) if form["hours"] is not None else None
        hour_reviews.review(get_store(), session_id, form["action"], actor=actor(),
                            person_id=form["person_id"], minutes=minutes, reason=form["reason"])
    except FieldsyncError as error:
        return _session_view(session_id, values, error)
    flash({"approve": _("Hours approved."), "correct": _("Hours corrected."),
           "reject": _("Hours rejected.")}[form["action"]], "ok")
    return redirect(url_for(".session_page", session_id=session_id))
