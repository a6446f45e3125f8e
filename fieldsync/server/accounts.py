"""Accounts (admin only): add one, give it units, set a new password, disable or enable it.

A new password or disabling ends every session the account has open (records/users.py).
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from fieldsync.errors import FieldsyncError
from fieldsync.records import users
from fieldsync.records.schemas import load
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_errors, form_page, posted, present

bp = Blueprint("accounts", __name__)


class UnitList(fields.String):
    """Place codes typed into one field, separated by spaces or commas."""

    def _deserialize(self, value, attr, data, **kwargs):
        return [code for code in re.split(r"[\s,，、;]+", super()._deserialize(value, attr, data, **kwargs)) if code]


class AccountForm(Schema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=40))
    display_name = fields.String(validate=validate.Length(max=50))
    role = fields.String(required=True, validate=validate.OneOf(users.ROLES))
    password = fields.String(required=True, validate=validate.Length(min=8, max=200))
    units = UnitList(load_default=list, validate=validate.Length(max=200))


class PasswordForm(Schema):
    password = fields.String(required=True, validate=validate.Length(min=8, max=200))


class UnitsForm(Schema):
    units = UnitList(load_default=list, validate=validate.Length(max=200))


@bp.route("/users", methods=["GET", "POST"])
@require("admin")
def users_page():
    store = get_store()
    if request.method == "GET":
        return _users_view(store, {"role": "staff"})
    values = posted(("username", "display_name", "role", "password", "units"))
    try:
        account = load(AccountForm(), present(values))
        users.create(store, account["username"], account["password"], account["role"],
                     account.get("display_name"), units=account["units"])
    except FieldsyncError as error:
        return _users_view(store, values, error)
    flash(_("Created the account %(name)s.", name=account["username"]), "ok")
    return redirect(url_for(".users_page"))


@bp.post("/users/<username>/password")
@require("admin")
def user_password(username):
    store = get_store()
    try:
        users.set_password(store, username, load(PasswordForm(), present(posted(("password",))))["password"])
    except FieldsyncError as error:
        return _users_view(store, {"role": "staff"}, error, row=username)
    flash(_("New password set for %(name)s.", name=username), "ok")
    return redirect(url_for(".users_page"))


@bp.post("/users/<username>/units")
@require("admin")
def user_units(username):
    store = get_store()
    try:
        users.set_units(store, username, load(UnitsForm(), present(posted(("units",))))["units"])
    except FieldsyncError as error:
        return _users_view(store, {"role": "staff"}, error, row=username)
    flash(_("Saved the units of %(name)s.", name=username), "ok")
    return redirect(url_for(".users_page"))


@bp.post("/users/<username>/<any(disable, enable):change>")
@require("admin")
def user_disable(username, change):
    try:
        users.set_disabled(get_store(), username, change == "disable", by=actor())
    except FieldsyncError as error:
        flash(error.message, "error")
    else:
        flash(_("%(name)s is disabled.", name=username) if change == "disable"
              else _("%(name)s may sign in again.", name=username), "ok")
    return redirect(url_for(".users_page"))


def _users_view(store, values: dict, error: FieldsyncError | None = None, row: str | None = None):
    """The accounts page; a bad form for one account's row (password, units) speaks in that row."""
    values = {k: v for k, v in values.items() if k != "password"}  # a password is never sent back
    reset = (row, form_errors(error)) if row and error else (None, {})
    page, _status = form_page("users.html", values, None if row else error, accounts=users.listing(store),
                              reset=reset, roles=users.ROLES)
    return page, error.status if error else 200
