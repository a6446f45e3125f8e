"""Staff pages on the node: start page, roster, sessions, badge sheets."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from fieldsync.records import badges, checkins, people, places, sessions
from fieldsync.records.schemas import LEVELS, MODES, SESSION_KINDS
from fieldsync.server import get_store
from fieldsync.server.auth import require

bp = Blueprint("admin", __name__)


@bp.app_context_processor
def _labels():
    return {"LEVELS": LEVELS, "SESSION_KINDS": SESSION_KINDS, "MODES": MODES}


@bp.get("/")
def home():
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    if g.user["role"] == "trainer":
        return redirect(url_for("kiosk.index"))
    store = get_store()
    stats = store.query_one(
        "SELECT (SELECT COUNT(*) FROM people WHERE status = 'active') AS people,"
        " (SELECT COUNT(*) FROM people WHERE status = 'active' AND level != 'none') AS instructors,"
        " (SELECT COUNT(*) FROM sessions WHERE status = 'active') AS sessions,"
        " (SELECT COUNT(*) FROM checkins) AS checkins")
    return render_template("home.html", stats=stats, sessions=sessions.listing(store, limit=8))


@bp.get("/people")
@require("staff")
def people_page():
    store = get_store()
    text = request.args.get("q", "")[:50]
    found = [people.masked(p) for p in people.search(store, text, limit=200)]
    return render_template("people.html", people=found, q=text,
                           place_names={p["code"]: p["name"] for p in store.query(
                               "SELECT code, name FROM places WHERE kind IN ('town','village')")})


@bp.get("/people/<person_id>")
@require("staff")
def person_page(person_id):
    store = get_store()
    person = people.get(store, person_id)
    return render_template("person.html", person=person, history=people.history(store, person_id),
                           town=places.name_of(store, person["town"]),
                           village=places.name_of(store, person["village"]))


@bp.get("/sessions")
@require("staff")
def sessions_page():
    return render_template("sessions.html", sessions=sessions.listing(get_store(), include_cancelled=True))


@bp.get("/sessions/<session_id>")
@require("staff")
def session_page(session_id):
    store = get_store()
    session = sessions.get(store, session_id)
    return render_template("session.html", session=session, attendees=checkins.attendees(store, session_id),
                           town=places.name_of(store, session["town"]))


@bp.get("/badges")
@require("staff")
def badge_sheet():
    """An A4 print page of badges: ?person=ID (repeatable), or ?town=CODE for a whole town."""
    store = get_store()
    chosen = request.args.getlist("person")
    if chosen:
        roster = [people.get(store, pid) for pid in chosen[:500]]
    else:
        roster = people.search(store, town=request.args.get("town") or None, limit=500)
    cards = [badge_card(store, person) for person in roster]
    return render_template("badges.html", cards=cards)


def badge_card(store, person: dict) -> dict:
    code = badges.issue(store, person)
    return {"person": person, "code": code, "svg": badges.qr_svg(code),
            "town": places.name_of(store, person["town"]),
            "village": places.name_of(store, person["village"]),
            "level": LEVELS.get(person["level"], "")}
