"""The sync line on every node page: last successful sync, records waiting, last error in plain words,
and the "Sync now" button beside it for staff."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Blueprint, Flask, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from fieldsync.errors import CATALOGUE, FieldsyncError
from fieldsync.i18n import language, speaking
from fieldsync.server.auth import require
from fieldsync.server.extensions import get_store
from fieldsync.server.i18n import when
from fieldsync.sync.link import KeepGoing
from fieldsync.sync.upstream import node

bp = Blueprint("sync_banner", __name__)
log = logging.getLogger("fieldsync.sync")
BUTTON_WAIT_SECONDS = 20   # the button's page waits this long; a longer sync goes on behind it


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
    if status.get("syncing"):
        return {"state": "running", "text": syncing_text(status["syncing"])}
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


def syncing_text(syncing: dict) -> str:
    text = _("Syncing now: %(sent)s of %(waiting)s records sent.", sent=f"{syncing['pushed']:,}",
             waiting=f"{syncing['waiting']:,}")
    if syncing["cuts"]:
        text += " " + ngettext("The link was cut %(num)s time; the sync goes on by itself.",
                               "The link was cut %(num)s times; the sync goes on by itself.", syncing["cuts"])
    return text


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
    outcome = _sync_meanwhile(store, Path(current_app.instance_path))
    if not outcome:
        flash(_("Still syncing over a slow or failing link; the line above shows how far it got."), "ok")
        return _back()
    if "error" in outcome:
        exc = outcome["error"]
        flash(_("Sync failed: %(reason)s.", reason=plain_words({"code": exc.code, "message": exc.message})),
              "error")
        return _back()
    summary = outcome["summary"]
    done = _("Synced: %(summary)s.", summary=summary.text())
    flash(done, "error" if summary.push.rejected else "ok")
    return _back()


def _sync_meanwhile(store, instance: Path) -> dict:
    """Sync on a thread of its own that keeps going through a failing link; wait for it up to
    BUTTON_WAIT_SECONDS. Returns {"summary"} or {"error"} if it ended by then, else {} (it goes on,
    and every page's sync line shows how far it got)."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["summary"] = node.sync(store, instance, keep_going=KeepGoing())
        except FieldsyncError as exc:
            outcome["error"] = exc
        except Exception:   # the thread must not die silently; sync_state holds what it could
            log.exception("sync now failed")
            outcome["error"] = FieldsyncError(code="internal_error")

    worker = threading.Thread(target=speaking(language(), run), name="fieldsync-sync-now", daemon=True)
    worker.start()
    worker.join(BUTTON_WAIT_SECONDS)
    return {} if worker.is_alive() else outcome


def _back():
    """303 to the page the button was on; only a local path, never an open redirect."""
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("admin.home")
    return redirect(target, code=303)
