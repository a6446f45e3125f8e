"""Hub pages that belong to sync: nodes (enroll, revoke, clocks), the conflicts, quarantine and
double-scan review queues, and the USB bundle upload. Registered only when serving as the hub.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.errors import FieldsyncError, ValidationFailed
from fieldsync.records import badges, places
from fieldsync.records.schemas import PlaceCode, load
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted, present
from fieldsync.sync import bundles, enrollment
from fieldsync.sync.downstream import doubles, review
from fieldsync.sync.protocol import NodeAddSchema

bp = Blueprint("hub", __name__, url_prefix="/hub")


class ResolveSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    choice = fields.String(required=True, validate=validate.OneOf([review.KEEP, review.USE_OTHER]))


class DismissSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    note = fields.String(load_default="", validate=validate.Length(max=300))


class DoublesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    town = PlaceCode(load_default=None)
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    state = fields.String(load_default=doubles.OPEN,
                          validate=validate.OneOf([doubles.OPEN, doubles.REVIEWED, doubles.ALL]))


class DoubleReviewSchema(DismissSchema):
    session = fields.String(required=True, validate=validate.Length(min=1, max=64))
    person = fields.String(required=True, validate=validate.Length(min=1, max=64))


def init_app(app: Flask) -> None:
    if app.config["MODE"] == "hub":
        app.register_blueprint(bp)


# -- nodes ------------------------------------------------------------------------------------------
def _nodes_page(offer: dict | None = None, values: dict | None = None, error: FieldsyncError | None = None):
    store = get_store()
    return form_page("hub_nodes.html", values or {}, error, nodes=enrollment.list_nodes(store), offer=offer,
                     towns=places.by_kind(store, "town"))


@bp.get("/nodes")
@require("staff")
def nodes_page():
    return _nodes_page()


@bp.post("/nodes")
@require("admin")
def add_node():
    values = posted(("name", "town"))
    try:
        data = load(NodeAddSchema(), present(values))
        node, code = enrollment.add_node(get_store(), data["town"], data["name"], actor=actor())
    except FieldsyncError as error:
        return _nodes_page(values=values, error=error)
    hub_url = request.host_url.rstrip("/")
    command = f"fieldsync enroll {hub_url} {code}"
    offer = {"node": node, "code": code, "hub_url": hub_url, "command": command,
             "town_name": places.name_of(get_store(), node["town"]), "svg": badges.qr_svg(command)}
    page, _status = _nodes_page(offer)
    return page, 201


@bp.post("/nodes/<node_id>/revoke")
@require("admin")
def revoke_node(node_id):
    enrollment.revoke(get_store(), node_id, actor=actor())
    return redirect(url_for("hub.nodes_page"))


# -- conflicts ----------------------------------------------------------------------------------------
@bp.get("/conflicts")
@require("staff")
def conflicts_page():
    store = get_store()
    return render_template("hub_conflicts.html", open=review.conflicts(store), names=places.names(store),
                           resolved=review.conflicts(store, resolved=True, limit=50),
                           trail=review.conflict_decisions(store))


@bp.post("/conflicts/<int:conflict_id>")
@require("staff")
def resolve_conflict(conflict_id):
    data = load(ResolveSchema(), request.form.to_dict())
    review.resolve_conflict(get_store(), conflict_id, data["choice"], actor=actor())
    return redirect(url_for("hub.conflicts_page"))


# -- quarantine ---------------------------------------------------------------------------------------
@bp.get("/quarantine")
@require("staff")
def quarantine_page():
    store = get_store()
    return render_template("hub_quarantine.html", open=review.quarantined(store),
                           resolved=review.quarantined(store, resolved=True, limit=50),
                           trail=review.audit_trail(store, prefix="quarantine_"),
                           result=request.args.get("result"))


@bp.post("/quarantine/<int:quarantine_id>/retry")
@require("staff")
def retry_quarantined(quarantine_id):
    applied = review.retry(get_store(), quarantine_id, actor=actor())
    return redirect(url_for("hub.quarantine_page", result="applied" if applied else "failed"))


@bp.post("/quarantine/<int:quarantine_id>/apply-move")
@require("admin")
def apply_move(quarantine_id):
    """A laptop asked to move a person or session to another town: an admin decides."""
    review.apply_move(get_store(), quarantine_id, actor=actor())
    return redirect(url_for("hub.quarantine_page", result="applied"))


@bp.post("/quarantine/<int:quarantine_id>/dismiss")
@require("staff")
def dismiss_quarantined(quarantine_id):
    data = load(DismissSchema(), request.form.to_dict())
    review.dismiss(get_store(), quarantine_id, actor=actor(), note=data["note"])
    return redirect(url_for("hub.quarantine_page"))


# -- double scans --------------------------------------------------------------------------------------
@bp.get("/double-scans")
@require("staff")
def double_scans_page():
    store = get_store()
    query = load(DoublesQuery(), {k: v for k, v in request.args.items() if v})
    found = doubles.listing(store, town=query["town"], state=query["state"],
                            **{key: query[key].isoformat() for key in ("since", "until") if query[key]})
    return render_template("hub_double_scans.html", doubles=found, query=query,
                           towns=places.by_kind(store, "town"), names=places.names(store),
                           trail=review.audit_trail(store, prefix="double_"))


@bp.post("/double-scans/review")
@require("staff")
def review_double_scan():
    data = load(DoubleReviewSchema(), request.form.to_dict())
    doubles.mark_reviewed(get_store(), data["session"], data["person"], actor=actor(), note=data["note"])
    return redirect(url_for("hub.double_scans_page"))


# -- bundles -----------------------------------------------------------------------------------------
@bp.get("/bundle")
@require("admin")
def bundle_page():
    return render_template("hub_bundle.html", summary=None, error=None)


@bp.post("/bundle")
@require("admin")
def upload_bundle():
    upload = request.files.get("bundle")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed(_("Choose the bundle file from the USB stick."), code="no_file")
        summary = bundles.import_bundle(get_store(), upload.stream, actor=actor(),
                                        override=request.form.get("override") == "yes")
    except FieldsyncError as exc:
        return render_template("hub_bundle.html", summary=None, error=exc.message), exc.status
    return render_template("hub_bundle.html", summary=summary, error=None)
