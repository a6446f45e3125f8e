"""The city hub's pages: dashboard, pairings, reports, volunteer hours (people: hub_people.py).

Registered in hub mode only. Every page needs a staff account; cancelling a
registration and merging duplicates need an admin (users.roster_role). Views
validate with marshmallow and call reports/ and records/ — no SQL here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from fieldsync import labels, sheets
from fieldsync.errors import FieldsyncError, ValidationFailed
from fieldsync.records import people, places, sessions
from fieldsync.records.schemas import (
    load,
)
from fieldsync.records.validators import mask_phone
from fieldsync.reports import (
    attention,
    csv_export,
    dashboard,
    hours,
    js365,
    pairings,
    registry,
    rollup,
    units,
)
from fieldsync.reports.schemas import (
    DashboardQuery,
    LeaderboardQuery,
    PairingLinkSchema,
    PairingSchema,
)
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted, present
from fieldsync.store import clock

bp = Blueprint("dashboard", __name__, url_prefix="/hub")


@bp.before_request
def rollups_current() -> None:
    """Every page here may read the report rollups: fold in what synced check-ins still wait."""
    rollup.current(get_store())


@bp.app_template_filter("china_time")
def _china_time(stamp: str | None) -> str:
    return clock.local_time(stamp)


@bp.app_template_filter("masked_phone")
def _masked_phone(phone: str | None) -> str:
    return mask_phone(phone)


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


def menus(db, *, villages: bool = False) -> dict:
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
    return _home()


def _home(values: dict | None = None, error: FieldsyncError | None = None):
    """The dashboard; after a bad pairing form, that form open again as typed."""
    db = get_store().db
    query = load(DashboardQuery(), request.args.to_dict())
    unit = _unit(db, query)
    data = dashboard.build(db, unit, query["year"], query.get("kind"))
    return form_page("hub_dashboard.html", values or {}, error, d=data, query=query, places=menus(db),
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
    values = posted(("organisation", "village", "since", "notes"))
    try:
        pairings.create(get_store(), load(PairingSchema(), present(values)), actor=actor())
    except FieldsyncError as error:
        return _home(values, error)
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
    return render_template("hub_reports.html", reports=registry.REPORTS.values(), places=menus(store.db),
                           years=dashboard.years(store.db), sessions=sessions.listing(store, limit=300),
                           tables=sorted(csv_export.DATABASE_TABLES))


@bp.get("/reports/<name>.<fmt>")
@require("staff")
def download(name, fmt):
    file_name, chunks = registry.prepare(get_store().db, name, fmt, request.args.to_dict())
    return Response(stream_with_context(chunks), content_type=sheets.CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{file_name}"'})


# -- volunteers --------------------------------------------------------------

@bp.get("/volunteers")
@require("staff")
def volunteers_page():
    db = get_store().db
    query = load(LeaderboardQuery(), request.args.to_dict())
    unit = _unit(db, query)
    return render_template("hub_volunteers.html", query=query, unit=unit, places=menus(db),
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
