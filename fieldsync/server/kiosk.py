"""The kiosk: a full-screen page per session for trainers and phone stations scanning badges."""

from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from fieldsync.records import checkins, places, sessions
from fieldsync.server.auth import KIOSK_CALLERS, require
from fieldsync.server.extensions import get_store
from fieldsync.server.stations import tied_session

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
CONFIRMED = "kiosk_confirmed"   # sessions not of today this browser chose to scan for anyway
KEEP_CONFIRMED = 5


@bp.get("/")
@require("trainer", kinds=KIOSK_CALLERS)
def index():
    tied = tied_session()
    if tied:
        return redirect(url_for("kiosk.station", session_id=tied))
    store = get_store()
    return render_template("kiosk_index.html", days=sessions.by_day(store, sessions.local_today(store)))


@bp.get("/<session_id>")
@require("trainer", kinds=KIOSK_CALLERS)
def station(session_id):
    # A station tied to another session got its 403 before this (stations.within_its_session).
    store = get_store()
    session_row = sessions.get(store, session_id)
    today = sessions.local_today(store)
    day = sessions.day_of(session_row, today)
    other_day = _day_text(session_row["starts_at"], today) if day != "today" else None
    if request.args.get("confirm") == "1":
        _remember_confirmed(session_id)
        return redirect(url_for("kiosk.station", session_id=session_id))   # a clean address to reload
    if other_day and not _confirmed(session_id):
        return render_template("kiosk_confirm.html", session=session_row, day=day, other_day=other_day)
    villages = places.children(store, session_row["town"], "village")
    return render_template("kiosk.html", session=session_row, counts=checkins.counts(store, session_id),
                           villages=villages, other_day=other_day,
                           town_name=places.name_of(store, session_row["town"]),
                           station=g.principal if g.principal["kind"] == "station" else None)


def _remember_confirmed(session_id: str) -> None:
    """This browser said yes to scanning for a session not of today: remembered (like the language)
    in its signed cookie, so the form pages' "back to the kiosk" does not ask again."""
    chosen = [s for s in session.get(CONFIRMED, []) if s != session_id]
    session[CONFIRMED] = [session_id, *chosen][:KEEP_CONFIRMED]


def _confirmed(session_id: str) -> bool:
    # A phone tied to its session by staff was set up for it on purpose: it only gets the banner.
    return tied_session() == session_id or session_id in session.get(CONFIRMED, [])


def _day_text(starts_at: str | None, today: date) -> str:
    """12月16日 (with the year when it is not this year's); a dash for a session without a date."""
    if not starts_at:
        return "—"
    day = date.fromisoformat(starts_at[:10])
    skeleton = "MMMd" if day.year == today.year else "yMMMd"
    return format_skeleton(skeleton, day, locale=str(get_locale()))
