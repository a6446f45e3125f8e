"""The roster on paper and in files: badges to print (A4), roster import and export (CSV, XLSX)."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync import printing
from fieldsync.errors import FieldsyncError, Forbidden, ValidationFailed
from fieldsync.records import badge_sheet, roster_io
from fieldsync.records import roster_export as exporting
from fieldsync.records.schemas import PlaceCode, load
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.headers import csp_nonce
from fieldsync.server.pages import home_town

bp = Blueprint("roster_pages", __name__)


class BadgeQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    person = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                         validate=validate.Length(max=500))
    town = PlaceCode(load_default=None)


@bp.get("/badges")
@require("staff")
def badge_page():
    """An A4 print page of badges: ?person=ID (repeatable), or ?town=CODE for a whole town."""
    store = get_store()
    query = load(BadgeQuery(), {**request.args.to_dict(), "person": request.args.getlist("person")})
    roster = badge_sheet.select_people(store, query["person"], query["town"])
    links = request.host_url if current_app.config["MODE"] == "hub" else None   # backs: personal links (0250)
    return Response(printing.badge_sheet_html(badge_sheet.cards(store, roster, link_base=links), str(get_locale()),
                                            csp_nonce()), mimetype="text/html")


class ExportQuery(exporting.RosterFilter):
    full = fields.Boolean(load_default=False)
    template = fields.Boolean(load_default=False)


@bp.route("/people/import", methods=["GET", "POST"])
@require("staff")
def roster_import():
    store = get_store()
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("roster")
        try:
            if upload is None or not upload.filename:
                raise ValidationFailed(_("Choose a CSV or Excel file first."), code="no_file")
            report = roster_io.import_roster(store, upload.read(), upload.filename, actor=actor(),
                                             dry_run=bool(request.form.get("dry_run")),
                                             default_town=home_town())
        except FieldsyncError as exc:
            error = exc
        if report and report.ok and not report.dry_run:
            flash(_("Imported %(n)s people.", n=len(report.imported)), "ok")
            return redirect(url_for("people_pages.people_page"))
    status = error.status if error else 422 if report and not report.ok else 200
    return render_template("import.html", report=report, error=error, exports=exporting.export_log(store, 10),
                           town=home_town()), status


@bp.get("/people/export.<any(csv, xlsx):fmt>")
@require("staff")
def roster_export(fmt):
    query = load(ExportQuery(), request.args.to_dict())
    full, empty = query.pop("full"), query.pop("template")
    if full and g.user["role"] != "admin":
        raise Forbidden(_("Only admins may export full phone and ID numbers."), code="role_forbidden")
    export = exporting.template(fmt) if empty else exporting.export_roster(get_store(), fmt, query, full=full,
                                                                          actor=actor())
    response = send_file(io.BytesIO(export.content), mimetype=export.mimetype, as_attachment=True,
                         download_name=export.filename)
    response.headers["Cache-Control"] = "no-store"  # personal data: no copies in caches
    return response
