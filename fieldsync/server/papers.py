"""A person's papers, on the node and the hub alike: 逐条核实 (verify a record), certificates
(print one person's or a training's passed trainees', and the register of those issued)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.records import certificates, people, places, sessions
from fieldsync.records.schemas import load
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store

bp = Blueprint("papers", __name__)


class RegisterQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    year = fields.Integer(allow_none=True, validate=validate.Range(min=1990, max=2100))


def _on_hub() -> bool:
    return current_app.config["MODE"] == "hub"


def person_url(person_id: str) -> str:
    return url_for("hub_people.person_page" if _on_hub() else "people_pages.person_page", person_id=person_id)


def _rule() -> certificates.Rule:
    return certificates.Rule.from_config(current_app.config)


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"})


@bp.post("/people/<person_id>/verify")
@require("staff")
def person_verify(person_id):
    person = people.verify(get_store(), person_id, actor=actor())
    flash(_("%(name)s is verified (逐条核实).", name=person["name"]), "ok")
    return redirect(person_url(person_id) + "#verification")


@bp.get("/people/<person_id>/certificate.pdf")
@require("staff")
def person_certificate(person_id):
    content = certificates.print_pdf(get_store(), [person_id], _rule(), actor=actor())
    return _pdf(content, f"certificate-{person_id}.pdf")


@bp.get("/sessions/<session_id>/certificates.pdf")
@require("staff")
def session_certificates(session_id):
    store = get_store()
    sessions.get(store, session_id)
    content = certificates.print_pdf(store, certificates.passed_trainees(store, session_id), _rule(),
                                     actor=actor())
    return _pdf(content, f"certificates-{session_id}.pdf")


@bp.get("/certificates")
@require("staff")
def certificate_register():
    store = get_store()
    query = load(RegisterQuery(), request.args.to_dict())
    rows = certificates.register(store.db, year=query.get("year"))
    return render_template("certificates.html", rows=rows, query=query, hub=_on_hub(),
                           names=places.names(store))
