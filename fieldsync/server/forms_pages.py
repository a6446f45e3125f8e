"""Form pages: the kiosk's fill-in page, and for staff the list, submissions, charts and exports;
at the hub also upload, edit and publish."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale

from fieldsync import sheets
from fieldsync.errors import BadRequest, FieldsyncError, NotFound, ValidationFailed
from fieldsync.forms import (
    catalogue,
    definition,
    export,
    html,
    submissions,
    summary,
    walk_in,
)
from fieldsync.forms.inputs import FilledPage
from fieldsync.i18n import _
from fieldsync.records import people, places, sessions
from fieldsync.records.schemas import load
from fieldsync.server.auth import KIOSK_CALLERS, actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.forms_api import hub_only
from fieldsync.store import clock, new_id

bp = Blueprint("forms_pages", __name__)
MAX_UPLOAD = 1024 * 1024
STARTER = {"id": "new_form", "title": {"zh": "新表单", "en": "New form"}, "fields": [
    {"name": "answer", "type": "text", "required": True, "label": {"zh": "问题", "en": "Question"}}]}


@bp.app_template_filter("label")
def label(text: dict | None) -> str:
    """A zh/en label in the page's language (Chinese when no English was given)."""
    if not text:
        return ""
    return (text.get("en") or text["zh"]) if str(get_locale()) == "en" else text["zh"]


# -- kiosk ---------------------------------------------------------------------
# A trainer signed in at the laptop, or a phone joined as a station (its cookie: stations.FORM_PAGES).
@bp.route("/kiosk/<session_id>/form/<person_id>", methods=["GET", "POST"])
@require("trainer", kinds=KIOSK_CALLERS)
def kiosk_form(session_id, person_id):
    """The session's form (or ?form=ID) for one person; the answers post back here."""
    store = get_store()
    session = sessions.get(store, session_id)
    posted = load(FilledPage(), request.form.to_dict()) if request.method == "POST" else {}
    form_id = posted.get("form") or request.args.get("form") or session["form_id"]
    if not form_id:
        raise NotFound(code="no_form")
    form = catalogue.get(store, form_id, posted.get("version"))
    page = _fill_page(store, session, form, posted, person=people.find(store, person_id), person_id=person_id)
    if request.method == "GET":
        return render_template("kiosk_form.html", **page)
    answers = html.answers_from_form(form["definition"], request.form)
    try:
        page["done"] = submissions.submit(store, form_id, session_id, person_id, answers,
                                          page["submission_id"], version=form["version"], actor=actor())
    except ValidationFailed as exc:
        page.update(values=answers, errors=exc.fields, message=exc.message)
        return render_template("kiosk_form.html", **page), 422
    return render_template("kiosk_form.html", **page), 200 if page["done"].replay else 201


@bp.route("/kiosk/<session_id>/walk-in", methods=["GET", "POST"])
@require("trainer", kinds=KIOSK_CALLERS)
def walk_in_form(session_id):
    """The built-in walk-in registration form: saving registers the person and checks them in."""
    store = get_store()
    session = sessions.get(store, session_id)
    posted = load(FilledPage(), request.form.to_dict()) if request.method == "POST" else {}
    form = catalogue.get(store, walk_in.FORM_ID, posted.get("version"))
    page = _fill_page(store, session, form, posted, walk_in=True)
    if request.method == "GET":
        return render_template("kiosk_form.html", **page)
    answers = html.answers_from_form(form["definition"], request.form)
    try:
        done = walk_in.register_and_check_in(store, session_id, answers, page["submission_id"],
                                             version=form["version"], actor=actor(),
                                             station=g.principal.get("station") or "kiosk")
    except FieldsyncError as exc:   # a bad field, a cancelled session, an ID number already registered
        page.update(values=answers, errors=exc.fields, message=exc.message)
        return render_template("kiosk_form.html", **page), exc.status
    page.update(done=done.submission, person=done.person)
    return render_template("kiosk_form.html", **page), 200 if done.submission.replay else 201


def _fill_page(store, session: dict, form: dict, posted: dict, **more) -> dict:
    """What kiosk_form.html needs to show a form to fill (and, once saved, `done`)."""
    return {"session": session, "form": form, "person": None, "person_id": None, "walk_in": False,
            "values": {}, "errors": {}, "done": None, "villages": places.children(store, session["town"], "village"),
            "submission_id": posted.get("submission_id") or new_id(), "row_count": html.row_count,
            "today": clock.today().isoformat(), **more}


# -- staff ---------------------------------------------------------------------
@bp.get("/forms")
@require("staff")
def forms_page():
    hub = current_app.config["MODE"] == "hub"
    return render_template("forms_list.html", forms=catalogue.listing(get_store(), drafts=hub), hub=hub)


ID_COLUMNS = {"id", "person_id", "node"}


@bp.get("/forms/<form_id>")
@require("staff")
def form_page(form_id):
    store = get_store()
    latest = catalogue.get(store, form_id, published=False)
    published = catalogue.find(store.db, form_id)
    table = None
    if published:
        header, cells = export.table(store, form_id, newest_first=True, limit=100)
        # Record ids are for the files a data clerk joins; the page shows what a person reads.
        shown = [i for i in range(len(header)) if i >= len(export.FIXED) or export.FIXED[i][1] not in ID_COLUMNS]
        table = {"header": [header[i] for i in shown], "rows": [[row[i] for i in shown] for row in cells]}
    return render_template(
        "forms_detail.html", form=latest, published=published, versions=catalogue.versions(store, form_id),
        charts=summary.summarise(store, form_id) if published else [], table=table,
        hub=current_app.config["MODE"] == "hub")


@bp.get("/forms/<form_id>/export.<fmt>")
@require("staff")
def form_export(form_id, fmt):
    store = get_store()
    catalogue.get(store, form_id)
    if fmt not in sheets.WRITERS:
        raise NotFound(_("No export as %(format)s; use csv or xlsx.", format=fmt), code="no_such_format")
    return Response(sheets.write(export.sheet(store, form_id), fmt), mimetype=sheets.CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{form_id}.{fmt}"'})


@bp.get("/forms/new")
@require("staff")
def new_form():
    hub_only()
    return _editor(json.dumps(STARTER, ensure_ascii=False, indent=2))


@bp.get("/forms/<form_id>/edit")
@require("staff")
def edit_form(form_id):
    hub_only()
    latest = catalogue.get(get_store(), form_id, published=False)
    return _editor(json.dumps(latest["definition"], ensure_ascii=False, indent=2))


@bp.post("/forms/save")
@require("staff")
def save_form():
    hub_only()
    text = _uploaded_text()
    try:
        document = _parse(text)
        saved = catalogue.save_draft(get_store(), document, actor=actor())
    except FieldsyncError as exc:
        lines = definition.error_lines(exc.fields, _parse_quietly(text)) or [("", exc.message)]
        return _editor(text, message=exc.message, lines=lines), exc.status
    return redirect(url_for("forms_pages.form_page", form_id=saved["id"]))


@bp.post("/forms/<form_id>/publish")
@require("admin")
def publish_form(form_id):
    hub_only()
    catalogue.publish(get_store(), form_id, actor=actor())
    return redirect(url_for("forms_pages.form_page", form_id=form_id))


def _editor(text: str, **extra):
    return render_template("forms_edit.html", text=text, **extra)


def _uploaded_text() -> str:
    upload = request.files.get("file")
    if upload and upload.filename:
        raw = upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise BadRequest(_("A form definition file is at most 1 MB."), code="definition_too_large")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadRequest(_("The file is not UTF-8 text."), code="bad_encoding") from None
    return request.form.get("definition", "")


def _parse(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(_("This is not JSON: %(problem)s at line %(line)s, column %(column)s.", problem=exc.msg,
                           line=exc.lineno, column=exc.colno),
                         code="bad_json") from None


def _parse_quietly(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
