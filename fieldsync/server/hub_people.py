"""The hub's people pages: the roster across towns, 注册/修改/晋级/注销, the upload that matches a
roster against the people known, and the duplicates merge.

Every page needs a staff account; cancelling a registration and merging duplicates need an admin
(users.roster_role). A bad form comes back as typed, each message by its field (pages.form_page).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldsync import labels
from fieldsync.errors import FieldsyncError, Forbidden, ValidationFailed
from fieldsync.i18n import N_
from fieldsync.records import people, roster_match, users
from fieldsync.records.schemas import (
    PeopleQuery,
    PersonSchema,
    PersonUpdateSchema,
    PromotionSchema,
    load,
)
from fieldsync.reports import hours, merges, units
from fieldsync.reports.schemas import MergeSchema
from fieldsync.server import dashboard
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted, present

bp = Blueprint("hub_people", __name__, url_prefix="/hub")
bp.before_request(dashboard.rollups_current)
MODIFY_FORM = ("name", "gender", "birth_year", "phone", "town", "village", "specialty")
REGISTER_FORM = (*MODIFY_FORM, "level", "certificate_no")


@bp.get("/people")
@require("staff")
def people_page():
    store = get_store()
    query = load(PeopleQuery(), request.args.to_dict())
    return _people_view(store, query, {})


def _people_view(store, query: dict, values: dict, error: FieldsyncError | None = None):
    """The roster and the 注册 form (open again, as typed, after a bad form)."""
    found = people.search(store, query["q"], town=query.get("town"), status=query["status"], limit=query["limit"],
                          offset=query["offset"])
    return form_page("hub_people.html", values, error, people=[people.masked(p) for p in found], query=query,
                     places=dashboard.menus(store.db, villages=True), progress=people.verification_progress(store))


@bp.post("/people")
@require("staff")
def person_register():
    store = get_store()
    values = posted(REGISTER_FORM)
    try:
        person = people.register(store, load(PersonSchema(), present(values)), actor=actor())
    except FieldsyncError as error:
        return _people_view(store, load(PeopleQuery(), {}), values, error)
    flash(_("Registered %(name)s.", name=person["name"]), "ok")
    return redirect(url_for(".person_page", person_id=person["id"]))


@bp.get("/people/<person_id>")
@require("staff")
def person_page(person_id):
    return _person_view(get_store(), person_id)


def _person_view(store, person_id: str, values: dict | None = None, error: FieldsyncError | None = None,
                 promotion: dict | None = None):
    """A person's page; after a bad 修改 or 晋级 form, that form as typed with its errors."""
    person = people.get(store, person_id)
    menus = dashboard.menus(store.db, villages=True)
    return form_page("hub_person.html", values or person, error, person=person, promotion=promotion or {},
                     history=labels.readable_history(people.history(store, person_id), menus["names"]),
                     merged=_named(store, merges.ids_of(store.db, person_id)[1:], menus["names"]),
                     kept=next(iter(_named(store, [merges.kept_of(store.db, person_id)], menus["names"])), None),
                     volunteering=hours.per_year(store.db, person_id), places=menus)


def _named(store, person_ids, place_names) -> list[dict]:
    """Merged registrations as their readers know them: a name and a town, never a bare id;
    one outside the account's towns is named as such."""
    named = []
    for person_id in filter(None, person_ids):
        try:
            person = people.get(store, person_id)
        except Forbidden:
            named.append({"id": person_id, "label": _("a registration outside your towns")})
            continue
        named.append({"id": person_id, "label": f"{person['name']}（{place_names.get(person['town'], person['town'])}）"})
    return named


@bp.post("/people/<person_id>")
@require("staff")
def person_modify(person_id):
    store = get_store()
    values = posted(MODIFY_FORM)
    try:
        people.modify(store, person_id, load(PersonUpdateSchema(), present(values)), actor=actor())
    except FieldsyncError as error:
        return _person_view(store, person_id, values, error)
    flash(_("Saved."), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


@bp.post("/people/<person_id>/promote")
@require("staff")
def person_promote(person_id):
    store = get_store()
    values = posted(("level", "certificate_no"))
    try:
        data = load(PromotionSchema(), present(values))
        people.promote(store, person_id, data["level"], data["certificate_no"], actor=actor())
    except FieldsyncError as error:
        return _person_view(store, person_id, error=error, promotion=values)
    flash(_("Promoted to %(level)s.", level=labels.term(data["level"], "level")), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


@bp.post("/people/<person_id>/cancel")
@require(users.roster_role("cancel", hub=True))
def person_cancel(person_id):
    people.cancel(get_store(), person_id, actor=actor())
    flash(_("Registration cancelled."), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


IMPORT_LABELS = {"new": N_("New"), "matched": N_("Matched, the same"), "changed": N_("Matched, filled in"),
                 "conflicts": N_("Matched, in conflict"), "errors": N_("Problems")}


@bp.route("/people/import", methods=["GET", "POST"])
@require("staff")
def import_page():
    """Upload: check and match every row, keep the file, show the plan with a confirm button."""
    if request.method == "GET":
        return _import_view()
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choose a CSV or Excel file first."), code="no_file")
    store, content = get_store(), upload.read()
    plan = roster_match.plan(store, content, upload.filename)
    if plan.ok:
        roster_match.keep(store.path.parent, content, upload.filename, plan.digest)
    return _import_view(plan, upload.filename, 200 if plan.ok else 422)


@bp.post("/people/import/confirm")
@require("staff")
def import_confirm():
    """Write exactly the plan previewed: the digest names the file and every decision."""
    store, digest = get_store(), request.form.get("digest", "")
    content, filename = roster_match.kept(store.path.parent, digest)
    done = roster_match.commit(store, content, filename, digest, actor=actor())
    roster_match.forget(store.path.parent, digest)
    flash(_("Imported: %(new)s new, %(changed)s filled in, %(conflicts)s conflicts left for review.",
            new=len(done.new), changed=len(done.changed), conflicts=len(done.conflicts)), "ok")
    return redirect(url_for(".people_page"))


def _import_view(plan=None, filename: str = "", status: int = 200):
    return render_template("hub_people_import.html", plan=plan, filename=filename, describe=roster_match.describe,
                           field_labels=roster_match.LABELS, labels={k: _(v) for k, v in IMPORT_LABELS.items()}), status


# The duplicates page's rows, in merges.COMPARED order.
DUPLICATE_FIELDS = (("name", N_("Name")), ("id_number_masked", N_("ID number")), ("phone", N_("Mobile")),
                    ("birth_year", N_("Birth year")), ("town", N_("Town")), ("village", N_("Village")),
                    ("level", N_("Level")), ("certificate_no", N_("Certificate no.")),
                    ("registered_at", N_("Registered")), ("updated_at", N_("Last changed")),
                    ("origin", N_("Entered on (laptop)")), ("sessions", N_("Sessions")))


@bp.get("/people/duplicates")
@require(users.roster_role("merge", hub=True))
def duplicates_page():
    """Each group's records get a letter (A, B, ...) that the merge buttons name: which one stays."""
    store = get_store()
    groups = merges.duplicates(store.db)
    for group in groups:
        for number, person in enumerate(group["people"]):
            person["letter"] = _("Record %(letter)s", letter=chr(ord("A") + number) if number < 26 else number + 1)
    return render_template("hub_people_duplicates.html", groups=groups, names=units.names(store.db),
                           fields=[(key, _(title)) for key, title in DUPLICATE_FIELDS], hub_origin=store.node_id)


@bp.post("/people/merge")
@require(users.roster_role("merge", hub=True))
def person_merge():
    data = load(MergeSchema(), present(posted(("kept", "merged"))))
    merges.merge(get_store(), data["kept"], data["merged"], actor=actor())
    flash(_("Merged: every check-in now counts for the person kept."), "ok")
    return redirect(url_for(".person_page", person_id=data["kept"]))
