"""What every staff form page shares: reading the posted values, and one way to answer a bad form.

Every form follows one pattern: load the posted values through a marshmallow
schema, call one domain function, then redirect with a flash message; on a
domain error, show the form again with the values kept and each message next
to its field (status 422, or 409 for a conflict): `form_page`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, flash, g, redirect, render_template, request
from flask_babel import gettext as _

from fieldsync.errors import FieldsyncError, ValidationFailed
from fieldsync.records import places, users
from fieldsync.server.auth import actor
from fieldsync.server.extensions import get_store


def may_roster(act: str) -> bool:
    """Whether the signed-in person may do `act` to the roster here: the hub asks more (users.roster_role)."""
    user = g.get("user")
    return user is not None and users.may(user["role"],
                                          users.roster_role(act, hub=current_app.config["MODE"] == "hub"))


def posted(names: tuple[str, ...]) -> dict:
    """The form's values, an empty field meaning none."""
    return {name: (request.form.get(name) or "").strip() or None for name in names}


def present(values: dict) -> dict:
    """The values that were given: what a schema loads, so a missing field gets its default."""
    return {k: v for k, v in values.items() if v is not None}


def form_errors(error: FieldsyncError) -> dict:
    """Each field's messages as a list of text, or the whole message under '_form'."""
    return {key: [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in error.fields.items()} or {"_form": [error.message]}


def conflict(error: FieldsyncError | None) -> str | None:
    """What to say above a form: a conflict in its own words; invalid fields speak by each field."""
    return None if error is None or isinstance(error, ValidationFailed) else error.message


def form_page(template: str, values: dict, error: FieldsyncError | None = None, **context):
    """The form again: the values as typed, each error next to its field, and the error's status."""
    return render_template(template, values=values, errors=form_errors(error) if error else {},
                           message=conflict(error), **context), error.status if error else 200


def home_town() -> str | None:
    return current_app.config.get("TOWN")


def place_choices(store) -> dict:
    """Towns to choose from (just this node's when it serves one) and their villages."""
    town = home_town()
    towns = [places.get(store, town)] if town and places.get(store, town) else places.by_kind(store, "town")
    return {"towns": towns, "town_names": {t["code"]: t["name"] for t in towns},
            "villages": {t["code"]: places.children(store, t["code"], "village") for t in towns}}


@dataclass(frozen=True)
class Action:
    """An action that asks first (注销, restore, badges, cancelling a session)."""
    title: str
    question: str                       # %(name)s is the person or session
    done: str
    run: Callable[..., object]          # run(store, record_id, actor)
    offered: Callable[[dict], bool]     # whether the record's page shows the button


def active(record: dict) -> bool:
    return record["status"] == "active"


def confirm(action: Action, record_id: str, name: str, back: str, then: str | None = None):
    """GET asks the question on its own page; POST (from that page) does it."""
    if request.method == "GET":
        return render_template("people_confirm.html", title=_(action.title), back=back,
                               question=_(action.question, name=name))
    action.run(get_store(), record_id, actor())
    flash(_(action.done, name=name), "ok")
    return redirect(then or back)
