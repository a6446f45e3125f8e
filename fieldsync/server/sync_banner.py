"""The sync line on every node page: last successful sync, records waiting, last error in plain words,
and the "Sync now" button beside it for staff."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from fieldsync.errors import CATALOGUE, FieldsyncError
from fieldsync.server.auth import require
from fieldsync.server.extensions import get_store
from fieldsync.server.i18n import when
from fieldsync.sync.upstream import node

bp = Blueprint("sync_banner", __name__)


def plain_words(error: dict) -> str:
    """What went wrong, for the person at the laptop, in the page's language: our words for the code
    (the hub's message, stored when the sync ran, may be in another language), else the hub's."""
    known = {
        "hub_unreachable": _("the hub could not be reached (no network, or the hub is down)"),
        "node_revoked": _("the city association revoked this laptop; ask them to enroll it again"),
        "bad_token": _("the hub does not accept this laptop's token any more; enroll it again"),
        "not_enrolled": _("this laptop is not enrolled with a hub yet; ask the city association for an "
                          "enrollment code"),
        "protocol_unsupported": _("the hub needs another fieldsync version on this laptop"),
        "upgrade_needed": _("the hub needs another fieldsync version on this laptop"),
    }
    code = error.get("code")
    if code in known:
        return known[code]
    if code in CATALOGUE and code != "hub_error":
        return _(CATALOGUE[code].message)
    return error.get("message") or _("unknown error")


def banner(status: dict) -> dict:
    if not status["enrolled"]:
        return {"state": "stale", "text": ngettext("Not connected to a hub: %(num)s record waits on this laptop.",
                                                   "Not connected to a hub: %(num)s records wait on this laptop.",
                                                   status["waiting"])}
    last = when(status["last_success"]) if status["last_success"] else _("never")
    waiting = ngettext("%(num)s record waiting.", "%(num)s records waiting.", status["waiting"])
    if status["last_error"]:
        return {"state": "error", "text": _("Last sync failed: %(reason)s. Last success: %(when)s. %(waiting)s",
                                            reason=plain_words(status["last_error"]), when=last, waiting=waiting)}
    return {"state": "ok", "text": _("Last sync: %(when)s. %(waiting)s", when=last, waiting=waiting)}


def init_app(app: Flask) -> None:
    if app.config["MODE"] != "node":
        return
    app.register_blueprint(bp)

    @app.context_processor
    def _sync_banner():
        if g.get("user") is None:
            return {}
        return {"sync_banner": banner(node.status(get_store(), Path(current_app.instance_path)))}


@bp.post("/sync")
@require("staff")
def sync_now():
    """The button: one sync through the same node.sync() as the API and the timer, then back to the page."""
    store = get_store()
    if node.lock_for(store).locked():
        # The timer (or another tab) is syncing: waiting for it could hold this page for minutes.
        flash(_("A sync is already running; the line above shows its result when it is done."), "ok")
        return _back()
    try:
        summary = node.sync(store, Path(current_app.instance_path))
    except FieldsyncError as exc:
        flash(_("Sync failed: %(reason)s.", reason=plain_words({"code": exc.code, "message": exc.message})),
              "error")
        return _back()
    done = _("Synced: %(summary)s.", summary=summary.text())
    flash(done, "error" if summary.push.rejected else "ok")
    return _back()


def _back():
    """303 to the page the button was on; only a local path, never an open redirect."""
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("admin.home")
    return redirect(target, code=303)
