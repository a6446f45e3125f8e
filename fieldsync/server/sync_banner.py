"""The sync line on every node page: last successful sync, records waiting, last error in plain words."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from flask_babel import gettext as _

from fieldsync.server import get_store
from fieldsync.server.i18n import when
from fieldsync.sync import node


def plain_words(error: dict) -> str:
    """What went wrong, for the person at the laptop (the hub's own message when we know no better)."""
    known = {
        "hub_unreachable": _("the hub could not be reached (no network, or the hub is down)"),
        "node_revoked": _("the city association revoked this laptop; ask them to enroll it again"),
        "bad_token": _("the hub does not accept this laptop's token any more; enroll it again"),
        "protocol_unsupported": _("the hub needs another fieldsync version on this laptop"),
        "upgrade_needed": _("the hub needs another fieldsync version on this laptop"),
    }
    return known.get(error.get("code"), error.get("message") or _("unknown error"))


def banner(status: dict) -> dict:
    waiting = status["waiting"]
    if not status["enrolled"]:
        return {"state": "stale", "text": _("Not connected to a hub: %(n)s records wait on this laptop.", n=waiting)}
    last = when(status["last_success"]) if status["last_success"] else _("never")
    if status["last_error"]:
        return {"state": "error", "text": _("Last sync failed: %(reason)s. Last success: %(when)s. "
                                            "%(n)s records waiting.", reason=plain_words(status["last_error"]),
                                            when=last, n=waiting)}
    return {"state": "ok", "text": _("Last sync: %(when)s. %(n)s records waiting.", when=last, n=waiting)}


def init_app(app: Flask) -> None:
    if app.config["MODE"] != "node":
        return

    @app.context_processor
    def _sync_banner():
        if g.get("user") is None:
            return {}
        return {"sync_banner": banner(node.status(get_store(), Path(current_app.instance_path)))}
