"""Staff pages on the node: start page, roster (注册/修改/注销), sessions, badges, import/export.

Every form follows one pattern: load the posted values through a marshmallow
schema, call one domain function, then redirect with a flash message; on a
domain error, show the form again with the values kept and each message next
to its field (status 422, or 409 for a conflict).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

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
from marshmallow import (
    EXCLUDE,
    Schema,
    fields,
    validate,
)

from fieldsync import labels, printing
from fieldsync.errors import FieldsyncError, Forbidden, NotFound, ValidationFailed
from fieldsync.forms import catalogue
from fieldsync.records import (
    badge_sheet,
    badges,
    checkins,
    people,
    places,
    roster_io,
    sessions,
    theme_days,
    users,
)
from fieldsync.records.schemas import (
    Integer,
    PersonSchema,
    PlaceCode,
    PromotionSchema,
    SessionSchema,
    SessionsQuery,
    load,
)
from fieldsync.reports import statistics_xlsx
from fieldsync.server.auth import require
from fieldsync.server.extensions import get_store
from fieldsync.server.headers import csp_nonce
from fieldsync.sync.downstream import doubles

bp = Blueprint("admin", __name__)
PAGE_SIZE = 50
PERSON_FORM = ("name", "gender", "birth_year", "phone", "id_number", "town", "village", "level",
               "specialty", "certificate_no", "registered_at")
SESSION_FORM = ("kind", "title", "organizer", "undertaker", "summary", "mode", "starts_at", "ends_at", "town", "village",
                "venue", "contact_name", "contact_phone", "notes", "hours", "form_id", "venue_type", "groups_served",
                "safety_plan", "theme_day")


@bp.app_context_processor
def _labels():
    return {"may_roster": may_roster}


def may_roster(act: str) -> bool:
    """Whether the signed-in person may do `act` to the roster here: the hub asks more (users.roster_role)."""
    user = g.get("user")
    return user is not None and users.may(user["role"],
                                          users.roster_role(act, hub=current_app.config["MODE"] == "hub"))


def N_(message: str) -> str:
    """Mark a message for the catalogues; it is translated where it is shown."""
    return message


def _actor() -> str:
    return g.user["username"]


def _posted(names: tuple[str, ...]) -> dict:
    """The form's values, an empty field meaning none."""
    return {name: (request.form.get(name) or "").strip() or None for name in names}


def _form_errors(error: FieldsyncError) -> dict:
    return {key: [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in error.fields.items()} or {"_form": [error.message]}


def _conflict(error: FieldsyncError | None) -> str | None:
    """What to say above a form: a conflict in its own words; invalid fields speak by each field."""
    return None if error is None or isinstance(error, ValidationFailed) else error.message


def _home_town() -> str | None:
    return current_app.config.get("TOWN")


def _place_choices(store) -> dict:
    """Towns to choose from (just this node's when it serves one) and their villages."""
    town = _home_town()
    towns = [places.get(store, town)] if town and places.get(store, town) else places.by_kind(store, "town")
    return {"towns": towns, "town_names": {t["code"]: t["name"] for t in towns},
            "villages": {t["code"]: places.children(store, t["code"], "village") for t in towns}}


@bp.get("/")
def home():
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    if g.user["role"] == "trainer":
        return redirect(url_for("kiosk.index"))
    store = get_store()
    return render_template("home.html", stats=sessions.office_counts(store), office=_office_name(store),
                           sessions=sessions.listing(store, limit=8))


def _office_name(store) -> str:
    """Whose office this is: the hub is the association of the unit it serves, a laptop its town's office."""
    if current_app.config["MODE"] == "hub":
        from fieldsync.reports import units

        try:
            return _("%(unit)s Social Sports Instructors Association", unit=units.top(store.db)["name"])
        except NotFound:  # a new hub before `places import`
            return _("City Social Sports Instructors Association")
    town = _home_town()
    return _("%(town)s office", town=places.name_of(store, town)) if town else _("Town office")


# -- people -----------------------------------------------------------------------

class PeoplePage(roster_io.RosterFilter):
    page = Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class PersonEdit(PersonSchema):
    """修改 from the person page: every field but the level, which changes by promotion only."""

    class Meta:
        exclude = ("level",)


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


@bp.get("/people")
@require("staff")
def people_page():
    store = get_store()
    query = load(PeoplePage(), request.args.to_dict())
    number = query.pop("page")
    found, total = people.page(store, query, number=number, size=PAGE_SIZE)
    filters = {k: v for k, v in query.items() if v and not (k == "status" and v == "active")}
    return render_template("people.html", people=[people.masked(p) for p in found], total=total,
                           page=number, pages=max(1, -(-total // PAGE_SIZE)), filters=filters,
                           query=query, choices=_place_choices(store), names=places.names(store))


@bp.route("/people/new", methods=["GET", "POST"])
@require("staff")
def person_new():
    store = get_store()
    if request.method == "GET":
        return _person_form(store, {"town": _home_town(), "level": "none"})
    values = _posted(PERSON_FORM)
    try:
        person = people.register(store, load(PersonSchema(), _present(values)), actor=_actor())
    except FieldsyncError as error:
        return _person_form(store, values, error)
    flash(_("Registered %(name)s (注册).", name=person["name"]), "ok")
    return redirect(url_for(".person_page", person_id=person["id"]))


@bp.route("/people/<person_id>/edit", methods=["GET", "POST"])
@require("staff")
def person_edit(person_id):
    store = get_store()
    person = people.get(store, person_id)
    if request.method == "GET":
        return _person_form(store, person, person=person)
    values = _posted(tuple(f for f in PERSON_FORM if f != "level"))
    if values["id_number"] is None:
        del values["id_number"]  # the form shows it masked: left empty, it stays as it is
    try:
        people.modify(store, person_id, load(PersonEdit(), values), actor=_actor())
    except FieldsyncError as error:
        return _person_form(store, values, error, person=person)
    flash(_("Saved the changes to %(name)s (修改).", name=values["name"]), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


def _person_form(store, values: dict, error: FieldsyncError | None = None, person: dict | None = None):
    return render_template("person_form.html", values=values, person=person, choices=_place_choices(store),
                           errors=_form_errors(error) if error else {},
                           message=_conflict(error)), error.status if error else 200


@bp.get("/people/<person_id>")
@require("staff")
def person_page(person_id):
    return _person_view(get_store(), person_id)


@bp.post("/people/<person_id>/promote")
@require("staff")
def person_promote(person_id):
    store = get_store()
    person = people.get(store, person_id)
    values = _posted(("level", "certificate_no"))
    try:
        promotion = load(PromotionSchema(), _present(values))
        people.promote(store, person_id, promotion["level"], promotion["certificate_no"], actor=_actor())
    except FieldsyncError as error:
        return _person_view(store, person_id, values, _form_errors(error), error.status)
    flash(_("%(name)s is now %(level)s.", name=person["name"], level=labels.term(values["level"], "level")), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


def _person_view(store, person_id: str, promotion: dict | None = None, errors: dict | None = None,
                 status: int = 200):
    person = people.get(store, person_id)
    names = places.names(store)
    return render_template(
        "person.html", person=person, names=names, errors=errors or {},
        actions={verb: action for verb, action in PERSON_ACTIONS.items() if may_roster(verb)},
        promotion=promotion or {"level": person["level"], "certificate_no": person["certificate_no"]},
        history=labels.readable_history(people.history(store, person_id), names)), status


# -- actions that ask first: 注销, restore, badges, cancelling a session -------------

@dataclass(frozen=True)
class Action:
    title: str
    question: str                       # %(name)s is the person or session
    done: str
    run: Callable[..., object]          # run(store, record_id, actor)
    offered: Callable[[dict], bool]     # whether the record's page shows the button


def _active(record: dict) -> bool:
    return record["status"] == "active"


PERSON_ACTIONS = {
    "cancel": Action(
        N_("Cancel registration (注销)"),
        N_("Cancel the registration of %(name)s? Their badge stops working at the kiosk. "
           "The history stays, and the registration can be restored."),
        N_("The registration of %(name)s is cancelled (注销)."),
        lambda store, pid, actor: people.cancel(store, pid, actor=actor), _active),
    "restore": Action(
        N_("Restore registration"), N_("Restore the registration of %(name)s? Their badge works again."),
        N_("The registration of %(name)s is restored."),
        lambda store, pid, actor: people.restore(store, pid, actor=actor), lambda p: not _active(p)),
    "revoke-badge": Action(
        N_("Revoke badge"),
        N_("Revoke every badge %(name)s holds now, for a lost or stolen card? Print a new one with Reissue badge."),
        N_("Every badge of %(name)s printed so far is revoked."),
        lambda store, pid, actor: badges.revoke(store, pid, reason="lost"), _active),
    "reissue-badge": Action(
        N_("Reissue badge"), N_("Print a new badge for %(name)s? Every older card of theirs stops working."),
        N_("New badge for %(name)s: print it now."),
        lambda store, pid, actor: badges.reissue(store, pid, actor=actor), _active),
}
SESSION_CANCEL = Action(
    N_("Cancel session"), N_("Cancel %(name)s? The kiosk stops taking scans for it; its check-ins stay."),
    N_("%(name)s is cancelled."), lambda store, sid, actor: sessions.cancel(store, sid, actor=actor), _active)


def _confirm(action: Action, record_id: str, name: str, back: str, then: str | None = None):
    """GET asks the question on its own page; POST (from that page) does it."""
    if request.method == "GET":
        return render_template("people_confirm.html", title=_(action.title), back=back,
                               question=_(action.question, name=name))
    action.run(get_store(), record_id, _actor())
    flash(_(action.done, name=name), "ok")
    return redirect(then or back)


@bp.route("/people/<person_id>/<any(cancel, restore, 'revoke-badge', 'reissue-badge'):verb>",
          methods=["GET", "POST"])
@require("staff")
def person_action(person_id, verb):
    if not may_roster(verb):
        raise Forbidden(_("On the city hub only an admin may do this: it reaches every town."),
                        code="role_forbidden")
    person = people.get(get_store(), person_id)
    back = url_for(".person_page", person_id=person_id)
    then = url_for(".badge_page", person=person_id) if verb == "reissue-badge" else None
    return _confirm(PERSON_ACTIONS[verb], person_id, person["name"], back, then)


# -- sessions ----------------------------------------------------------------------

@bp.get("/sessions")
@require("staff")
def sessions_page():
    query = load(SessionsQuery(), {"include_cancelled": "true", **request.args.to_dict()})
    return render_template("sessions.html", sessions=sessions.listing(get_store(), **query), query=query)


@bp.get("/sessions/<session_id>")
@require("staff")
def session_page(session_id):
    store = get_store()
    session = sessions.get(store, session_id)
    names = places.names(store)
    return render_template("session.html", session=session, attendees=checkins.attendees(store, session_id),
                           doubles=doubles.of_session(store.db, session_id),
                           filed_notes=statistics_xlsx.notes_of(store.db, session),
                           town=names.get(session["town"], session["town"]),
                           village=names.get(session["village"], ""), cancel=SESSION_CANCEL)


@bp.route("/sessions/new", methods=["GET", "POST"])
@require("staff")
def session_new():
    store = get_store()
    if request.method == "GET":
        return _session_form(store, {"town": _home_town(), "mode": "offline", "kind": "training"})
    values = _session_posted()
    try:
        session = sessions.create(store, load(SessionSchema(), _present(values)), actor=_actor())
    except FieldsyncError as error:
        return _session_form(store, values, error)
    flash(_("Created %(title)s.", title=session["title"]), "ok")
    return redirect(url_for(".session_page", session_id=session["id"]))


@bp.route("/sessions/<session_id>/edit", methods=["GET", "POST"])
@require("staff")
def session_edit(session_id):
    store = get_store()
    session = sessions.get(store, session_id)
    if request.method == "GET":
        return _session_form(store, session, session=session)
    values = _session_posted()
    try:
        sessions.modify(store, session_id, load(SessionSchema(), values), actor=_actor())
    except FieldsyncError as error:
        return _session_form(store, values, error, session=session)
    flash(_("Saved the changes to %(title)s.", title=values["title"]), "ok")
    return redirect(url_for(".session_page", session_id=session_id))


def _session_posted() -> dict:
    """The session form's values; the groups served are ticked boxes, one value each."""
    return {**_posted(SESSION_FORM), "groups_served": ",".join(request.form.getlist("groups_served")) or None}


def _session_form(store, values: dict, error: FieldsyncError | None = None, session: dict | None = None):
    lang = "en" if str(get_locale()) == "en" else "zh"
    forms = {form["id"]: form["title"].get(lang) or form["id"] for form in catalogue.listing(store)}
    return render_template("session_form.html", values=values, session=session, choices=_place_choices(store),
                           forms=forms, venue_types=labels.terms("venue_type"), groups_served=labels.terms("group"),
                           theme_days=theme_days.around(store.db, values.get("starts_at")),
                           errors=_form_errors(error) if error else {},
                           message=_conflict(error)), error.status if error else 200


@bp.route("/sessions/<session_id>/cancel", methods=["GET", "POST"])
@require("staff")
def session_cancel(session_id):
    session = sessions.get(get_store(), session_id)
    return _confirm(SESSION_CANCEL, session_id, session["title"],
                    url_for(".session_page", session_id=session_id))


# -- badges ------------------------------------------------------------------------

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
    return Response(printing.badge_sheet_html(badge_sheet.cards(store, roster), str(get_locale()), csp_nonce()),
                    mimetype="text/html")


# -- roster import and export ------------------------------------------------------

class ExportQuery(roster_io.RosterFilter):
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
            report = roster_io.import_roster(store, upload.read(), upload.filename, actor=_actor(),
                                             dry_run=bool(request.form.get("dry_run")),
                                             default_town=_home_town())
        except FieldsyncError as exc:
            error = exc
        if report and report.ok and not report.dry_run:
            flash(_("Imported %(n)s people.", n=len(report.imported)), "ok")
            return redirect(url_for(".people_page"))
    status = error.status if error else 422 if report and not report.ok else 200
    return render_template("import.html", report=report, error=error, exports=roster_io.export_log(store, 10),
                           town=_home_town()), status


@bp.get("/people/export.<any(csv, xlsx):fmt>")
@require("staff")
def roster_export(fmt):
    query = load(ExportQuery(), request.args.to_dict())
    full, empty = query.pop("full"), query.pop("template")
    if full and g.user["role"] != "admin":
        raise Forbidden(_("Only admins may export full phone and ID numbers."), code="role_forbidden")
    export = roster_io.template(fmt) if empty else roster_io.export_roster(get_store(), fmt, query, full=full,
                                                                          actor=_actor())
    response = send_file(io.BytesIO(export.content), mimetype=export.mimetype, as_attachment=True,
                         download_name=export.filename)
    response.headers["Cache-Control"] = "no-store"  # personal data: no copies in caches
    return response
