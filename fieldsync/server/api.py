"""The node's JSON API under /api/v1: check-ins, people, sessions, status, OpenAPI."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request, url_for

from fieldsync import PROTOCOL_VERSION, __version__
from fieldsync.errors import Forbidden
from fieldsync.i18n import _
from fieldsync.records import badges, checkins, people, sessions, users
from fieldsync.records.schemas import (
    CheckinSchema,
    PeopleQuery,
    PersonSchema,
    PersonUpdateSchema,
    SessionSchema,
    SessionsQuery,
    SessionUpdateSchema,
    load,
)
from fieldsync.server.auth import KIOSK_CALLERS, actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.http import json_body
from fieldsync.server.openapi import doc, document
from fieldsync.server.stations import within_its_session

bp = Blueprint("api", __name__, url_prefix="/api/v1")
STATION_ERRORS = {"401": {"description": "station_expired: the station's token has expired; join again"},
                  "403": {"description": "station_session_forbidden: the station is tied to another session"}}
# Built once: a schema keeps no state between loads, and building one per scan
# was an eighth of the check-in's CPU time.
CHECKIN_SCHEMA = CheckinSchema()


def _can_see_phones() -> bool:
    principal = g.get("principal") or {}
    return users.sees_full_numbers(principal.get("kind"), principal.get("role"))


def _person_out(person: dict) -> dict:
    return person if _can_see_phones() else people.masked(person)


@bp.get("/openapi.json")
@doc("This document.", auth="none")
def openapi():
    return document(current_app)


@bp.get("/health")
@doc("Liveness: answers while the server runs; no personal data.", auth="none")
def health():
    return {"ok": True, "version": __version__, "protocol": PROTOCOL_VERSION,
            "mode": current_app.config["MODE"]}


@bp.post("/checkins")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Record a scan or a manual check-in. Retrying with the same id returns the first answer.",
     body=CheckinSchema, responses=STATION_ERRORS)
def post_checkin():
    data = load(CHECKIN_SCHEMA, json_body())
    within_its_session(data["session"])
    principal = g.principal
    station = principal.get("station") or data["station"]
    result = checkins.check_in(
        get_store(), session_id=data["session"], code=data.get("code"), person_id=data.get("person"),
        direction=data["direction"], station=station, client_id=data.get("id"),
        scanned_at=data.get("scanned_at"), method=data["method"])
    answer = result.to_dict()
    if result.status in (checkins.OK, checkins.ALREADY) and data["direction"] == "in" and result.person:
        # Where the session asks attendees to fill a form, the kiosk offers it now.
        answer["form_url"] = url_for("forms_pages.kiosk_form", session_id=data["session"],
                                     person_id=result.person["id"]) if result.form_id else None
    return answer, 201 if result.recorded and not result.replay else 200


@bp.get("/sessions")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Sessions, newest first.", query=SessionsQuery)
def list_sessions():
    query = load(SessionsQuery(), request.args.to_dict())
    return {"sessions": sessions.listing(get_store(), **query)}


@bp.post("/sessions")
@require("staff")
@doc("Create a session (training, volunteer activity, theme day, fitness monitoring).", body=SessionSchema)
def create_session():
    data = load(SessionSchema(), json_body())
    return sessions.create(get_store(), data, actor=actor()), 201


@bp.get("/sessions/<session_id>")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("One session with its attendance counts.")
def get_session(session_id):
    store = get_store()
    return {**sessions.get(store, session_id), "counts": checkins.counts(store, session_id)}


@bp.patch("/sessions/<session_id>")
@require("staff")
@doc("Change some fields of a session.", body=SessionUpdateSchema)
def modify_session(session_id):
    data = load(SessionUpdateSchema(), json_body())
    return sessions.modify(get_store(), session_id, data, actor=actor())


@bp.post("/sessions/<session_id>/cancel")
@require("staff")
@doc("Cancel a session; its check-ins stay.")
def cancel_session(session_id):
    return sessions.cancel(get_store(), session_id, actor=actor())


@bp.get("/sessions/<session_id>/attendees")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Who came: first in, last out, still in or out.", responses=STATION_ERRORS)
def attendees(session_id):
    store = get_store()
    sessions.get(store, session_id)
    return {"attendees": checkins.attendees(store, session_id), "counts": checkins.counts(store, session_id)}


@bp.get("/people")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Search people by name or phone: the whole mobile number, or (staff and admins) its last digits.",
     query=PeopleQuery)
def list_people():
    query = load(PeopleQuery(), request.args.to_dict())
    found = people.search(get_store(), query.pop("q"), whole_numbers=not _can_see_phones(), **query)
    return {"people": [_person_out(p) for p in found]}


@bp.post("/people")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("Register a person (注册); the kiosk's walk-in form posts here.", body=PersonSchema)
def register_person():
    data = load(PersonSchema(), json_body())
    store = get_store()
    person = people.register(store, data, actor=actor())
    return {**_person_out(person), "badge": badges.issue(store, person)}, 201


@bp.get("/people/<person_id>")
@require("trainer", kinds=KIOSK_CALLERS)
@doc("One person.")
def get_person(person_id):
    return _person_out(people.get(get_store(), person_id))


@bp.patch("/people/<person_id>")
@require("staff")
@doc("Modify a person (修改); a level change is recorded as a promotion.", body=PersonUpdateSchema)
def modify_person(person_id):
    data = load(PersonUpdateSchema(), json_body())
    return people.modify(get_store(), person_id, data, actor=actor())


@bp.post("/people/<person_id>/cancel")
@require("staff")
@doc("Cancel a person's registration (注销).")
def cancel_person(person_id):
    # On the hub a cancellation reaches every town's laptop: admin only, as on the pages.
    if not users.may(g.principal["role"], users.roster_role("cancel", hub=current_app.config["MODE"] == "hub")):
        raise Forbidden(_("On the city hub only an admin may cancel a registration."), code="role_forbidden")
    return people.cancel(get_store(), person_id, actor=actor())


@bp.get("/people/<person_id>/history")
@require("staff")
@doc("Every change to a person: register, modify, promote, cancel.")
def person_history(person_id):
    store = get_store()
    people.get(store, person_id)
    return {"history": people.history(store, person_id)}


@bp.post("/people/<person_id>/badge")
@require("staff")
@doc("Revoke the person's badges and issue a new one (lost card).")
def reissue_badge(person_id):
    return {"badge": badges.reissue(get_store(), person_id, actor=actor())}, 201
