"""What a pull from the hub above could not apply and holds (sync/upstream/pull.py): the count on the home
page and the list, with a retry after an upgrade, for staff. On a laptop and on a child hub."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from fieldsync.records import users
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.sync.upstream import pull

bp = Blueprint("held", __name__, url_prefix="/sync/held")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _held_from_hub():
        user = g.get("user")
        if user is None or users.RANK.get(user["role"], 0) < users.RANK["staff"]:
            return {}
        return {"held_from_hub": pull.held_count(get_store())}


@bp.get("")
@require("staff")
def held_page():
    return render_template("sync_held.html", held=pull.held(get_store()))


@bp.post("/retry")
@require("staff")
def retry():
    store = get_store()
    applied = pull.retry_held(store, actor=actor())
    waiting = pull.held_count(store)
    flash(ngettext("%(num)s change applied.", "%(num)s changes applied.", applied) + " "
          + (ngettext("%(num)s still held.", "%(num)s still held.", waiting) if waiting else _("Nothing is held now.")),
          "error" if waiting else "ok")
    return redirect(url_for("held.held_page"), code=303)
