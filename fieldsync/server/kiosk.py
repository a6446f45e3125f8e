"""The kiosk: a full-screen page per session for trainers scanning badges."""

from __future__ import annotations

from flask import Blueprint, render_template

from fieldsync.records import checkins, places, sessions
from fieldsync.records.schemas import LEVELS
from fieldsync.server import get_store
from fieldsync.server.auth import require

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


@bp.get("/")
@require("trainer")
def index():
    return render_template("kiosk_index.html", sessions=sessions.listing(get_store(), limit=50))


@bp.get("/<session_id>")
@require("trainer")
def station(session_id):
    store = get_store()
    session = sessions.get(store, session_id)
    villages = places.children(store, session["town"], "village")
    return render_template("kiosk.html", session=session, counts=checkins.counts(store, session_id),
                           levels=LEVELS, villages=villages,
                           town_name=places.name_of(store, session["town"]))
