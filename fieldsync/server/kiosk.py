"""The kiosk: a full-screen page per session for trainers and phone stations scanning badges."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for

from fieldsync.records import checkins, places, sessions
from fieldsync.server import get_store
from fieldsync.server.auth import require
from fieldsync.server.stations import tied_session

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
KIOSK_CALLERS = ("user", "station")


@bp.get("/")
@require("trainer", kinds=KIOSK_CALLERS)
def index():
    tied = tied_session()
    if tied:
        return redirect(url_for("kiosk.station", session_id=tied))
    return render_template("kiosk_index.html", sessions=sessions.listing(get_store(), limit=50))


@bp.get("/<session_id>")
@require("trainer", kinds=KIOSK_CALLERS)
def station(session_id):
    # A station tied to another session got its 403 before this (stations.within_its_session).
    store = get_store()
    session = sessions.get(store, session_id)
    villages = places.children(store, session["town"], "village")
    return render_template("kiosk.html", session=session, counts=checkins.counts(store, session_id),
                           villages=villages,
                           town_name=places.name_of(store, session["town"]),
                           station=g.principal if g.principal["kind"] == "station" else None)
