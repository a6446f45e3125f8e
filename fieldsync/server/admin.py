"""The start page: staff see their office's counts and next sessions; a trainer goes to the kiosk.

The staff areas have their own blueprints: people_pages, sessions_pages, roster_pages, accounts.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, url_for
from flask_babel import gettext as _

from fieldsync.errors import NotFound
from fieldsync.records import places, sessions
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import home_town, may_roster

bp = Blueprint("admin", __name__)


@bp.app_context_processor
def _labels():
    return {"may_roster": may_roster}


@bp.get("/")
def home():
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    if g.user["role"] == "trainer":
        return redirect(url_for("kiosk.index"))
    store = get_store()
    return render_template("home.html", stats=sessions.office_counts(store), office=_office_name(store),
                           sessions=sessions.listing(store, limit=8))


def _office_name(store) -> str:
    """Whose office this is: the hub is the association of the unit it serves, a laptop its town's office."""
    if current_app.config["MODE"] == "hub":
        from fieldsync.reports import units

        try:
            return _("%(unit)s Social Sports Instructors Association", unit=units.top(store.db)["name"])
        except NotFound:  # a new hub before `places import`
            return _("City Social Sports Instructors Association")
    town = home_town()
    return _("%(town)s office", town=places.name_of(store, town)) if town else _("Town office")
