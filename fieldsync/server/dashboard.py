"""The city hub's pages: dashboard, reports, people (with duplicate merge), volunteer hours.

Registered in hub mode only. Every page needs a staff account; cancelling a
registration and merging duplicates need an admin (users.roster_role). Views
validate with marshmallow and call reports/ and records/ — no SQL here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from fieldsync import labels
from fieldsync.errors import Forbidden, ValidationFailed
from fieldsync.records import people, places, roster_match, sessions, users
from fieldsync.records.schemas import (
    PeopleQuery,
    PersonSchema,
    PersonUpdateSchema,
    PromotionSchema,
    load,
)
from fieldsync.records.validators import mask_phone
from fieldsync.reports import (
    attention,
    csv_export,
    dashboard,
    hours,
    js365,
    merges,
    pairings,
    registry,
    rollup,
    units,
)
from fieldsync.reports.schemas import (
    DashboardQuery,
    LeaderboardQuery,
    MergeSchema,
    PairingLinkSchema,
    PairingSchema,
)
from fieldsync.reports.table import local_time
from fieldsync.server.admin import N_
from fieldsync.server.auth import require
from fieldsync.server.extensions import get_store

bp = Blueprint("dashboard", __name__, url_prefix="/hub")


@bp.before_request
def _rollups_current() -> None:
    """Every page here may read the report rollups: fold in what synced check-ins still wait."""
    rollup.current(get_store())


@bp.app_template_filter("china_time")
def _china_time(stamp: str | None) -> str:
    return local_time(stamp)


@bp.app_template_filter("masked_phone")
def _masked_phone(phone: str | None) -> str:
    return mask_phone(phone)


def _actor() -> str:
    return g.user["username"]


def _form() -> dict:
    """The posted form without its CSRF token; an empty field means 'not given'."""
    return {key: value.strip() for key, value in request.form.items()
            if key != "csrf_token" and value.strip()}


def _unit(db, query: dict) -> units.Unit:
    """The unit the filters name: the town, else the county, else the city, else the hub's own."""
    town, county, city = query.get("town"), query.get("county"), query.get("city")
    if town and county and town not in units.resolve(db, county).towns:
        raise ValidationFailed(_("That town is not in that county."), fields={"town": [_("Not in the county.")]})
    if county and city and city not in places.ancestors(db, county):
        raise ValidationFailed(_("That county is not in that city."), fields={"county": [_("Not in the city.")]})
    return units.resolve(db, town or county or city, query.get("year"))


def _places(db, *, villages: bool = False) -> dict:
    """The hub's unit, its cities (a province's), counties with their towns (and, for the people
    forms, each town's villages) for the menus."""
    menus = {"home": units.resolve(db), "cities": dashboard.cities(db),
             "counties": dashboard.counties_and_towns(db), "names": units.names(db), "villages": {}}
    if villages:
        for village in units.descendants(db, units.resolve(db).code, "village"):
            menus["villages"].setdefault(village["parent"], []).append(village)
    return menus


@bp.get("/")
@require("staff")
def home():
    db = get_store().db
    query = load(DashboardQuery(), request.args.to_dict())
    unit = _unit(db, query)
    data = dashboard.build(db, unit, query["year"], query.get("kind"))
    return render_template("hub_dashboard.html", d=data, query=query, places=_places(db),
                           linkable=pairings.unlinked_sessions(db, unit, query["year"]),
                           charts=_charts(data), attention=attention.needs_attention(db),
                           js365_unfiled=js365.unfiled_count(db, unit, query["year"]))


def _charts(data: dict) -> dict:
    """What dashboard.js draws, with its labels in the page's language."""
    return {
        "year": data["year"], "days": data["checkins_per_day"],
        "themeDays": [{"start": t["starts_on"], "end": t["ends_on"], "label": t["name"]} for t in data["theme_days"]],
        "kinds": [{"label": labels.term(k, "kind"), "count": n} for k, n in data["sessions_by_kind"].items()],
        "towns": [{"label": t["name"], "trained": t["trained"]} for t in data["coverage"].towns],
        "density": [{"label": row["name"], "value": row["per_1000"]} for row in data["density"]
                    if row["kind"] == "town"],
        "densityTarget": data["density"][0]["target"] if data["density"] else None,
        "text": {"people": _("People checked in"), "trained": _("Trained"),
                 "density": _("Instructors per 1,000"), "target": _("Target")},
    }


@bp.post("/pairings")
@require("staff")
def pairing_new():
    pairings.create(get_store(), load(PairingSchema(), _form()), actor=_actor())
    flash(_("Pairing added."), "ok")
    return redirect(url_for(".home", **request.args) + "#pairings")


@bp.post("/pairings/sessions")
@require("staff")
def pairing_link():
    data = load(PairingLinkSchema(), _form())
    pairings.link(get_store(), data["pairing"], data["session"])
    flash(_("Activity linked to the pairing."), "ok")
    return redirect(url_for(".home", **request.args) + "#pairings")


# -- reports -----------------------------------------------------------------

@bp.get("/reports")
@require("staff")
def reports_page():
    store = get_store()
    return render_template("hub_reports.html", reports=registry.REPORTS.values(), places=_places(store.db),
                           years=dashboard.years(store.db), sessions=sessions.listing(store, limit=300),
                           tables=sorted(csv_export.DATABASE_TABLES))


@bp.get("/reports/<name>.<fmt>")
@require("staff")
def download(name, fmt):
    file_name, chunks = registry.prepare(get_store().db, name, fmt, request.args.to_dict())
    return Response(stream_with_context(chunks), content_type=registry.CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


# -- people ------------------------------------------------------------------

@bp.get("/people")
@require("staff")
def people_page():
    store = get_store()
    query = load(PeopleQuery(), request.args.to_dict())
    found = people.search(store, query["q"], town=query.get("town"), status=query["status"], limit=query["limit"],
                          offset=query["offset"])
    return render_template("hub_people.html", people=[people.masked(p) for p in found], query=query,
                           places=_places(store.db, villages=True),
                           progress=people.verification_progress(store))


@bp.post("/people")
@require("staff")
def person_register():
    person = people.register(get_store(), load(PersonSchema(), _form()), actor=_actor())
    flash(_("Registered %(name)s.", name=person["name"]), "ok")
    return redirect(url_for(".person_page", person_id=person["id"]))


@bp.get("/people/<person_id>")
@require("staff")
def person_page(person_id):
    store = get_store()
    person = people.get(store, person_id)
    menus = _places(store.db, villages=True)
    return render_template("hub_person.html", person=person,
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
    people.modify(get_store(), person_id, load(PersonUpdateSchema(), _form()), actor=_actor())
    flash(_("Saved."), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


@bp.post("/people/<person_id>/promote")
@require("staff")
def person_promote(person_id):
    data = load(PromotionSchema(), _form())
    people.promote(get_store(), person_id, data["level"], data["certificate_no"], actor=_actor())
    flash(_("Promoted to %(level)s.", level=labels.term(data["level"], "level")), "ok")
    return redirect(url_for(".person_page", person_id=person_id))


@bp.post("/people/<person_id>/cancel")
@require(users.roster_role("cancel", hub=True))
def person_cancel(person_id):
    people.cancel(get_store(), person_id, actor=_actor())
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
    done = roster_match.commit(store, content, filename, digest, actor=_actor())
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
    data = load(MergeSchema(), _form())
    merges.merge(get_store(), data["kept"], data["merged"], actor=_actor())
    flash(_("Merged: every check-in now counts for the person kept."), "ok")
    return redirect(url_for(".person_page", person_id=data["kept"]))


# -- volunteers --------------------------------------------------------------

@bp.get("/volunteers")
@require("staff")
def volunteers_page():
    db = get_store().db
    query = load(LeaderboardQuery(), request.args.to_dict())
    unit = _unit(db, query)
    return render_template("hub_volunteers.html", query=query, unit=unit, places=_places(db),
                           years=dashboard.years(db), totals=hours.totals(db, unit, query["year"]),
                           waiting=hours.waiting(db, unit, query["year"]),
                           leaders=hours.leaderboard(db, unit, query["year"], limit=query["limit"],
                                                     instructors_only=not query["everyone"]))


@bp.get("/volunteers/<person_id>")
@require("staff")
def volunteer_page(person_id):
    store = get_store()
    return render_template("hub_volunteers_person.html", person=people.get(store, person_id),
                           sessions=hours.history(store.db, person_id),
                           volunteering=hours.per_year(store.db, person_id),
                           names=units.names(store.db))
