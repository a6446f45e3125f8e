"""上岗率's pages: the 一线社会体育指导员 list with the association's N (hub), and a session's trainer.

The list page shows the unit's front-line instructors of a year (masked, as every list) and
offers the XLSX: masked for staff, whole phones and ID numbers for an admin who asks
(logged in `exports`, decision 0145's whole-number route). An admin sets N here
(`fieldsync service min-services` too). A session's trainer is named from its page, on a
laptop or the hub. Views validate and call reports/service.py and records/trainers.py.
"""

from __future__ import annotations

import json
from datetime import date

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync import sheets
from fieldsync.errors import Forbidden, ValidationFailed
from fieldsync.records import sessions, trainers
from fieldsync.records.schemas import Integer, PlaceCode, load
from fieldsync.records.validators import mask_phone
from fieldsync.reports import registry, service, units
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store

bp = Blueprint("service", __name__)          # the hub's: a laptop keeps no rollups to count from
trainer_bp = Blueprint("trainer", __name__)  # a laptop's and the hub's
MAX_ID_FILES = 50


def init_app(app) -> None:
    app.register_blueprint(trainer_bp)
    if app.config["MODE"] == "hub":
        app.register_blueprint(bp)


class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    year = Integer(load_default=lambda: date.today().year, validate=validate.Range(min=2000, max=2100))
    unit = PlaceCode(load_default=None)
    full = fields.Boolean(load_default=False)


class TrainerForm(Schema):
    class Meta:
        unknown = EXCLUDE

    trainer = fields.String(load_default=None, validate=validate.Length(max=64))


@bp.get("/service/frontline")
@require("staff")
def frontline_page():
    db = get_store().db
    query = load(ListQuery(), request.args.to_dict())
    unit = units.resolve(db, query["unit"], query["year"])
    return render_template("service_frontline.html", unit=unit, year=query["year"], names=units.names(db),
                           people=service.frontline(db, unit, query["year"]), rates=service.rates(db, unit, query["year"]),
                           least=service.min_services(db), mask_phone=mask_phone)


@bp.route("/service/frontline.xlsx", methods=["GET", "POST"])
@require("staff")
def frontline_download():
    """GET: the masked list. POST with full: whole numbers, for an admin (with laptop S12 files)."""
    asked = load(ListQuery(), (request.form if request.method == "POST" else request.args).to_dict())
    unit = units.resolve(get_store().db, asked["unit"], asked["year"])
    uploads = [upload for upload in request.files.getlist("ids_from") if upload.filename]
    if not (asked["full"] or uploads):
        name, chunks = registry.prepare(get_store().db, "frontline", "xlsx",
                                        {"year": asked["year"], "unit": unit.code})
        return _xlsx(name, b"".join(chunks))
    if g.user["role"] != "admin":
        raise Forbidden(_("Only admins may export full phone and ID numbers."), code="role_forbidden")
    if len(uploads) > MAX_ID_FILES:
        raise ValidationFailed(_("Give at most %(n)s files at a time.", n=MAX_ID_FILES), fields={"ids_from": ["Too many."]})
    table = service.frontline_full(get_store(), unit, asked["year"], actor=actor(),
                                   id_files=[(upload.filename, upload.read()) for upload in uploads])
    return _xlsx(f"frontline-{unit.code}-{asked['year']}-full.xlsx", b"".join(sheets.write(table, "xlsx")))


def _xlsx(name: str, content: bytes) -> Response:
    return Response(content, content_type=sheets.CONTENT_TYPES["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/service/min-services")
@require("admin")
def set_min_services():
    number = service.set_min_services(get_store(), request.form.get("min_services", ""), actor=actor())
    flash(_("An instructor is front-line from %(n)s services a year.", n=number), "ok")
    return redirect(url_for(".frontline_page", year=request.form.get("year") or None,
                            unit=request.form.get("unit") or None))


@trainer_bp.app_template_filter("trainer_name")
def trainer_name(person_id: str | None) -> str:
    """The name of a session's trainer, on its page."""
    return trainers.name_of(get_store().db, person_id)


@trainer_bp.route("/sessions/<session_id>/trainer", methods=["GET", "POST"])
@require("staff")
def trainer_page(session_id):
    store = get_store()
    session = sessions.get(store, session_id)   # in the account's towns, or refused
    if request.method == "POST":
        chosen = load(TrainerForm(), request.form.to_dict())["trainer"] or None
        trainers.set_trainer(store, session_id, chosen, actor=actor())
        flash(_("Saved the trainer.") if chosen else _("Cleared the trainer."), "ok")
        return redirect(url_for("sessions_pages.session_page", session_id=session_id))
    # The session's own town's instructors: what a laptop holds, and no one outside the account's units.
    return render_template("session_trainer.html", session=session, names=units.names(store.db),
                           instructors=trainers.instructors_of(store.db, json.dumps([session["town"]])))
