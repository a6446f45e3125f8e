"""Records out of the system, on laptop and hub alike: the S12 instructor register for the
provincial system and the activities to file on js365, with the "filed" mark (docs/exports.md).

Staff and admins only (the roster's roles); whole ID and phone numbers for an admin who asks,
and on a hub only those the laptops' own S12 files bring (decision 0145).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
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
from fieldsync.records import sessions
from fieldsync.records.schemas import Integer, PlaceCode, load
from fieldsync.reports import js365, registry, s12, units
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.sheets import xlsx
from fieldsync.store import clock

bp = Blueprint("exports", __name__)
MAX_ID_FILES, MAX_MARKS = 50, 500


class S12Request(Schema):
    class Meta:
        unknown = EXCLUDE

    unit = PlaceCode(load_default=None)
    changes = fields.Boolean(load_default=False)
    full = fields.Boolean(load_default=False)


class Js365Query(Schema):
    class Meta:
        unknown = EXCLUDE

    unit = PlaceCode(load_default=None)
    year = Integer(load_default=lambda: clock.today().year, validate=validate.Range(min=2000, max=2100))


class Js365Marks(Js365Query):
    session = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                          validate=validate.Length(min=1, max=MAX_MARKS,
                                                   error=f"Tick between 1 and {MAX_MARKS} activities."))


def _unit(code: str | None, year: int | None = None) -> units.Unit:
    """The unit asked for, else this laptop's town, else (units.resolve) the account's first unit or the hub's own."""
    return units.resolve(get_store().db, code or current_app.config.get("TOWN"), year)


def _menus() -> list[dict]:
    from fieldsync.reports import dashboard

    return dashboard.counties_and_towns(get_store().db) if current_app.config["MODE"] == "hub" else []


@bp.get("/exports")
@require("staff")
def exports_page():
    db = get_store().db
    query = load(Js365Query(), request.args.to_dict())
    unit = _unit(query["unit"], query["year"])
    return render_template("exports.html", unit=unit, query=query, counties=_menus(),
                           last=s12.last_export(db, unit.code), unfiled=js365.unfiled(db, unit, query["year"]),
                           hub=current_app.config["MODE"] == "hub")


@bp.post("/exports/s12.xlsx")
@require("staff")
def s12_download():
    asked = load(S12Request(), request.form.to_dict())
    uploads = [upload for upload in request.files.getlist("ids_from") if upload.filename]
    if (asked["full"] or uploads) and g.user["role"] != "admin":
        raise Forbidden(_("Only admins may export full phone and ID numbers."), code="role_forbidden")
    if len(uploads) > MAX_ID_FILES:
        raise ValidationFailed(_("Give at most %(n)s files at a time.", n=MAX_ID_FILES), fields={"ids_from": ["Too many."]})
    unit = _unit(asked["unit"])
    done = s12.export(get_store(), unit, changes=asked["changes"], full=asked["full"] or bool(uploads),
                      issuer=current_app.config.get("CERTIFICATE_ISSUER") or "",
                      id_files=[(upload.filename, upload.read()) for upload in uploads], actor=actor())
    name = f"S12-{unit.code}-{'changes-' if asked['changes'] else ''}{clock.today():%Y%m%d}.xlsx"
    return Response(b"".join(xlsx.chunks(done.table)), content_type=sheets.CONTENT_TYPES["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/exports/js365.xlsx")
@require("staff")
def js365_download():
    query = load(Js365Query(), request.args.to_dict())
    name, chunks = registry.prepare(get_store().db, "js365", "xlsx",
                                    {"year": query["year"], "unit": _unit(query["unit"]).code})
    return Response(b"".join(chunks), content_type=sheets.CONTENT_TYPES["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/exports/js365/filed")
@require("staff")
def js365_filed():
    """The bulk action: mark the ticked activities as filed on js365."""
    data = load(Js365Marks(), {**request.form.to_dict(), "session": request.form.getlist("session")})
    marked = sessions.mark_js365(get_store(), data["session"], actor=actor())
    flash(_("Marked %(n)s activities as filed on js365.", n=marked), "ok")
    return redirect(url_for(".exports_page", unit=data["unit"] or None, year=data["year"]) + "#js365")


@bp.post("/sessions/<session_id>/js365")
@require("staff")
def session_js365(session_id):
    sessions.mark_js365(get_store(), [session_id], actor=actor())
    flash(_("Marked as filed on js365."), "ok")
    return redirect(url_for("sessions_pages.session_page", session_id=session_id))
