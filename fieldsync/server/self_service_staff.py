"""The staff side of the instructor's own page: decide the corrections instructors ask for (on a
town laptop and on the hub), and, on the hub, give or revoke a person's personal link and download
their 志愿服务记录证明.

Requests reach a town laptop with its pull; staff see their towns' only (a laptop holds its own,
a hub account its units, decision 0056). Approving makes the ordinary people modify, which syncs
like any edit (decision 0250). `init_app` registers these pages, on the hub also the public ones
(server/self_service.py) and the person page's card (self_service_card.html, filled by the
`self_service` template global); the start page counts the requests waiting.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, validate

from fieldsync.records import badges, people, personal_links, profile_requests
from fieldsync.records.schemas import load
from fieldsync.reports import hours
from fieldsync.server import self_service
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store

bp = Blueprint("self_service_staff", __name__, url_prefix="/hub")
requests_bp = Blueprint("correction_requests", __name__, url_prefix="/requests")


class DecisionForm(Schema):
    class Meta:
        unknown = EXCLUDE

    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    reason = fields.String(load_default=None, validate=validate.Length(max=200))


def init_app(app: Flask) -> None:
    app.register_blueprint(requests_bp)
    app.jinja_env.globals["correction_requests_waiting"] = lambda: profile_requests.count_waiting(get_store())
    app.jinja_env.globals["correction_requests_of"] = lambda person_id: profile_requests.of_person(get_store(),
                                                                                                   person_id)
    if app.config["MODE"] == "hub":
        app.register_blueprint(self_service.bp)
        app.register_blueprint(bp)
        app.jinja_env.globals["self_service"] = card


def card(person: dict) -> dict:
    """What the person page's card shows: the current link (None: revoked or never given), certificate years."""
    store = get_store()
    token = personal_links.current(store, person, create=False) if person["status"] == "active" else None
    link = url_for("self_service.instructor_page", token=token, _external=True) if token else None
    return {"link": link, "qr": badges.qr_svg(link) if link else "",
            "state": personal_links.state(store, person["id"]),
            "years": sorted({int(row["year"]) for row in hours.per_year(store.db, person["id"])}, reverse=True)}


@bp.post("/people/<person_id>/personal-link/<any(issue, revoke):verb>")
@require("staff")
def personal_link(person_id, verb):
    store = get_store()
    if verb == "issue":
        personal_links.issue(store, person_id, actor=actor())
        flash(_("A new personal link is ready; every earlier link stops working."), "ok")
    else:
        personal_links.revoke(store, person_id, actor=actor())
        flash(_("Personal link revoked: it no longer opens the page."), "ok")
    return redirect(url_for("hub_people.person_page", person_id=person_id) + "#self-service")


@bp.get("/people/<person_id>/service-certificate/<int:year>.pdf")
@require("staff")
def service_certificate(person_id, year):
    store = get_store()
    return self_service.certificate_pdf(store, people.get(store, person_id), year, actor=actor())


@requests_bp.get("/")
@require("staff")
def requests_page():
    return render_template("requests.html", waiting=profile_requests.waiting(get_store()))


@requests_bp.post("/<request_id>")
@require("staff")
def decide(request_id):
    form = load(DecisionForm(), request.form.to_dict())
    decided = profile_requests.decide(get_store(), request_id, form["decision"] == "approve",
                                      actor=actor(), reason=form["reason"])
    flash(_("Approved: the record is changed.") if decided["status"] == "approved" else _("Rejected."), "ok")
    return redirect(url_for(".requests_page"))
