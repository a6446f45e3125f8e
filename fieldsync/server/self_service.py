"""The instructor's own page (/me/<token>) and the public check of a 志愿服务记录证明 (/verify/).

Both are open without an account. /me/<token> opens only with a link records/personal_links.py
accepts (decision 0250): it shows the instructor's level, reviewed hours and activities, the
coming sessions of their town, their badge to show at a kiosk, their correction requests, and
their certificates. /verify/<code> shows what a certificate stated when it was issued, the name
masked (decision 0251). Views validate and call records/ and reports/ — no SQL here.
"""

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

from fieldsync.records import (
    badges,
    personal_links,
    places,
    profile_requests,
    sessions,
)
from fieldsync.records.schemas import LEVELS, load
from fieldsync.records.validators import mask_name, mask_phone
from fieldsync.reports import hours, service_certificates
from fieldsync.server.extensions import get_store
from fieldsync.store import clock

bp = Blueprint("self_service", __name__)
PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class RequestForm(Schema):
    class Meta:
        unknown = EXCLUDE

    field = fields.String(required=True, validate=validate.OneOf(profile_requests.FIELDS))
    value = fields.String(required=True, validate=validate.Length(max=50))
    note = fields.String(load_default=None, validate=validate.Length(max=200))


def _private(body, status: int = 200):
    """A page that holds a bearer link: never cached, never sent on as a referrer, never indexed."""
    return body, status, PRIVATE


def _years(store, person_id: str) -> dict:
    """{year: {"hours", "activities"}} of the person's reviewed volunteering, newest first."""
    years: dict[int, dict] = {}
    for row in hours.per_year(store.db, person_id):
        year = years.setdefault(int(row["year"]), {"minutes": 0, "activities": 0})
        year["minutes"] += row["minutes"] or 0
        year["activities"] += row["sessions"]
    return {year: {"hours": hours.hours(v["minutes"]), "activities": v["activities"]} for year, v in years.items()}


@bp.get("/me/<token>")
def instructor_page(token):
    store = get_store()
    person = personal_links.person_of(store, token)
    now = clock.minute()
    this_year = int(now[:4])
    return _private(render_template(
        "me.html", token=token, person=person, phone=mask_phone(person.get("phone")),
        level=LEVELS.get(person["level"], ""), names=places.names(store), years=_years(store, person["id"]),
        this_year=this_year, served=hours.served(store.db, person["id"], this_year),
        upcoming=sessions.upcoming(store, person["town"], now),
        badge_svg=badges.qr_svg(badges.issue(store, person)),
        requests=profile_requests.of_person(store, person["id"])))


@bp.post("/me/<token>/requests")
def ask_correction(token):
    store = get_store()
    person = personal_links.person_of(store, token)
    form = load(RequestForm(), request.form.to_dict())
    profile_requests.ask(store, person, form["field"], form["value"], form["note"])
    flash(_("Sent to your town's staff. Your record changes once they approve."), "ok")
    return redirect(url_for(".instructor_page", token=token) + "#requests", 303)


@bp.get("/me/<token>/certificate/<int:year>.pdf")
def own_certificate(token, year):
    store = get_store()
    person = personal_links.person_of(store, token)
    return _private(certificate_pdf(store, person, year, actor="self"))


def certificate_pdf(store, person: dict, year: int, *, actor: str) -> Response:
    """The person's 志愿服务记录证明 of a year as a PDF download (issued once per set of figures)."""
    certificate, served = service_certificates.issue(store, person["id"], year, actor=actor)
    verify_url = url_for("self_service.verify_code", code=certificate["code"], _external=True)
    pdf = service_certificates.render(certificate, served, person, verify_url=verify_url,
                                      issuer_name=service_certificates.issuer(store.db, current_app.config))
    filename = f"volunteer-record-{year}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.get("/verify/")
def verify_page():
    typed = (request.args.get("code") or "").strip()
    if typed:
        return redirect(url_for(".verify_code", code=typed[:40]))
    return render_template("verify.html", check=None)


@bp.get("/verify/<code>")
def verify_code(code):
    store = get_store()
    check = service_certificates.check(store, code)
    certificate = check.certificate
    return render_template("verify.html", check=check, name=mask_name(certificate["name"]),
                           hours=hours.hours(certificate["minutes"]), now_hours=hours.hours(check.current_minutes),
                           code=service_certificates.spaced(certificate["code"]),
                           issuer=service_certificates.issuer(store.db, current_app.config))
