"""The forms API under /api/v1: definitions (edited at the hub), submissions (filled anywhere)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from fieldsync.errors import Forbidden, ValidationFailed
from fieldsync.forms import catalogue, submissions, summary, walk_in
from fieldsync.forms.inputs import SubmissionSchema, SubmissionsQuery, VersionQuery
from fieldsync.i18n import _
from fieldsync.records.schemas import load
from fieldsync.server.api import STATION_ERRORS
from fieldsync.server.auth import KIOSK_CALLERS, actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.http import json_body
from fieldsync.server.openapi import doc
from fieldsync.server.stations import within_its_session

bp = Blueprint("forms_api", __name__, url_prefix="/api/v1")


def hub_only() -> None:
    """Definitions are edited in one place, the hub, and reach the towns by pull."""
    if current_app.config["MODE"] != "hub":
        raise Forbidden(_("Forms are edited at the hub; this node receives them when it syncs."),
                        code="hub_only")


@bp.get("/forms")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Forms this installation knows: newest published version of each (drafts too at the hub).")
def list_forms():
    drafts = current_app.config["MODE"] == "hub" and g.principal.get("role") in ("admin", "staff")
    return {"forms": catalogue.listing(get_store(), drafts=drafts)}


@bp.get("/forms/<form_id>")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("One form's definition: the newest published version, or ?version=N.", query=VersionQuery)
def get_form(form_id):
    query = load(VersionQuery(), request.args.to_dict())
    return catalogue.get(get_store(), form_id, query.get("version"))


@bp.get("/forms/<form_id>/versions")
@require("staff")
@doc("Every version of a form, newest first, with when it was published.")
def form_versions(form_id):
    store = get_store()
    catalogue.get(store, form_id, published=False)
    return {"versions": catalogue.versions(store, form_id)}


@bp.post("/forms")
@require("staff")
@doc("Save a form definition as the form's draft (hub only). Errors name each bad spot, "
     "e.g. fields.2.min.")
def save_form():
    hub_only()
    return catalogue.save_draft(get_store(), json_body(), actor=actor()), 201


@bp.post("/forms/<form_id>/publish")
@require("admin")
@doc("Publish the form's draft as a new version; every node gets it with its next pull (hub only).")
def publish_form(form_id):
    hub_only()
    return catalogue.publish(get_store(), form_id, actor=actor())


@bp.get("/forms/<form_id>/summary")
@require("staff")
@doc("Counts per option and number statistics over the form's submissions.")
def form_summary(form_id):
    return {"form": form_id, "fields": summary.summarise(get_store(), form_id)}


@bp.post("/submissions")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Submit answers to a form. Retrying with the same id returns the first answer; "
     "a pass of the training assessment promotes the person to 三级; the walk-in registration form "
     "registers a new person and checks them in to the session.", body=SubmissionSchema,
     responses=STATION_ERRORS)
def post_submission():
    data = load(SubmissionSchema(), json_body())
    within_its_session(data.get("session"))
    if data["form"] == walk_in.FORM_ID:
        return _walk_in(data)
    done = submissions.submit(get_store(), data["form"], data.get("session"), data.get("person"),
                              data["answers"], data.get("id"), version=data.get("version"), actor=actor())
    body = {**done.submission, "replay": done.replay,
            "promoted": {k: done.promoted[k] for k in ("id", "level", "certificate_no")}
            if done.promoted else None}
    return body, 200 if done.replay else 201


def _walk_in(data: dict):
    """The walk-in registration form registers a new person and checks them in (forms/walk_in.py)."""
    principal = g.principal
    if data.get("person"):
        raise ValidationFailed(_("A walk-in registration registers a new person: leave person out."),
                               fields={"person": [_("Not for a walk-in.")]})
    done = walk_in.register_and_check_in(get_store(), data.get("session"), data["answers"], data.get("id"),
                                         version=data.get("version"), actor=actor(),
                                         station=principal.get("station") or "kiosk")
    body = {**done.submission.submission, "replay": done.submission.replay, "promoted": None,
            "person": {k: done.person[k] for k in ("id", "name", "level", "town", "village")},
            "checkin": done.scan.to_dict() if done.scan else None}
    return body, 200 if done.submission.replay else 201


@bp.get("/submissions")
@require("staff")
@doc("Submissions, newest first, by form, session or person.", query=SubmissionsQuery)
def list_submissions():
    query = load(SubmissionsQuery(), request.args.to_dict())
    return {"submissions": submissions.listing(
        get_store(), form_id=query.get("form"), session_id=query.get("session"),
        person_id=query.get("person"), limit=query["limit"], offset=query["offset"])}


@bp.get("/submissions/<submission_id>")
@require("staff")
@doc("One submission.")
def get_submission(submission_id):
    return submissions.get(get_store(), submission_id)
