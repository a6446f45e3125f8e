"""Phone stations: staff make a named station and show its join QR; a phone opens it and scans.

A station proves itself two ways. Its kiosk pages (plain GET navigations,
which cannot carry a header) rely on the signed session cookie set at join.
Its API calls carry `Authorization: Bearer <token>` from localStorage: a
header no other site can make a browser send, so they need no CSRF token.
The cookie authorises one kind of write: the session's form pages, which are
plain HTML forms posted back with the page's CSRF token, like any signed-in
form (auth checks it before the cookie is read).

A station tied to one session reaches nothing of another: `within_its_session`
is that one check, run for every route with a session in its path and called by
the two that carry it in their body. An expired station answers 401
`station_expired` with a sentence the phone shows.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from fieldsync.errors import FieldsyncError, Forbidden, Unauthorized
from fieldsync.i18n import N_
from fieldsync.records import badges, sessions, stations
from fieldsync.records.schemas import load
from fieldsync.server import extensions
from fieldsync.server.auth import actor, require
from fieldsync.server.extensions import get_store
from fieldsync.server.pages import form_page, posted, present

bp = Blueprint("stations", __name__, url_prefix="/kiosk")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# What a station's cookie opens besides the kiosk's own pages: the session's form and the walk-in
# registration, read and posted back (the post carries the CSRF token: auth checks every cookie write).
FORM_PAGES = {"forms_pages.kiosk_form", "forms_pages.walk_in_form"}


class StationSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Regexp(
        r"^[^\x00-\x1f<>]{1,40}$", error=N_("A station name is 1-40 characters, e.g. 手机1 or 门口.")))
    session = fields.String(load_default=None, validate=validate.Length(max=64))
    lifetime = fields.Integer(load_default=None, validate=validate.OneOf(stations.LIFETIMES_HOURS))

    @pre_load
    def _defaults(self, data, **kwargs):
        # The page's selects send "" for their default choice.
        return {k: v for k, v in data.items() if v != ""}


def principal(station: dict) -> dict:
    return {"kind": "station", "role": "trainer", "station": station["name"], "name": station["name"],
            "id": station["id"], "session": station["session_id"]}


def tied_session() -> str | None:
    """The one session the calling station is tied to, if any (people at the laptop are never tied)."""
    principal = g.get("principal") or {}
    return principal.get("session") if principal.get("kind") == "station" else None


def within_its_session(session_id: str | None) -> None:
    """A station tied to one session scans, reads and fills forms for that session only."""
    tied = tied_session()
    if tied and tied != session_id:
        raise Forbidden(_("This station is set up for another session only."),
                        code="station_session_forbidden", fields={"session": [_("Not this station's session.")]})


def _expired() -> Unauthorized:
    return Unauthorized(_("This device's check-in authorisation has expired; scan the join code again."),
                        code="station_expired")


def resolve_bearer(token: str) -> dict | None:
    station = stations.by_token(get_store(), token)
    if station and stations.expired(station):
        raise _expired()
    return principal(station) if station else None


def init_app(app: Flask) -> None:
    app.extensions[extensions.BEARER_RESOLVERS].append(resolve_bearer)

    @app.before_request
    def _station_from_cookie():
        # Kiosk page views and the form pages; every other write goes through the API with the bearer token.
        kiosk_page = request.method in ("GET", "HEAD") and request.blueprint == "kiosk"
        if g.get("principal") or not (kiosk_page or request.endpoint in FORM_PAGES):
            return
        station_id = session.get("station_id")
        station = stations.find(get_store(), station_id) if station_id else None
        if station is None or stations.expired(station):
            if station_id:
                session.pop("station_id")  # revoked or expired: the phone must join again
            if station:
                raise _expired()
            return
        g.principal = principal(station)

    @app.before_request
    def _session_in_the_path():
        # Every route naming a session in its path, now and later, without each remembering to ask.
        if request.view_args and "session_id" in request.view_args:
            within_its_session(request.view_args["session_id"])


def join_bases() -> list[str]:
    """Where phones reach this laptop: the LAN addresses when the page was opened on the laptop itself."""
    here = request.host_url.rstrip("/")
    host = request.host.rsplit(":", 1)[0].strip("[]")
    public = current_app.config.get("PUBLIC_URLS") or []
    return list(public) if public and host in LOOPBACK else [here]


def _join_offer(station: dict, token: str) -> dict:
    urls = [f"{base}{url_for('stations.join')}?token={token}" for base in join_bases()]
    return {"station": station, "url": urls[0], "others": urls[1:], "svg": badges.qr_svg(urls[0])}


def _page(offer: dict | None = None, values: dict | None = None, error: FieldsyncError | None = None):
    store = get_store()
    return form_page("stations.html", values or {}, error, stations=stations.listing(store), offer=offer,
                     sessions=sessions.listing(store, limit=50), lifetimes=stations.LIFETIMES_HOURS)


@bp.get("/stations")
@require("staff")
def stations_page():
    return _page()


@bp.post("/stations")
@require("staff")
def create_station():
    values = posted(("name", "session", "lifetime"))
    try:
        data = load(StationSchema(), present(values))
        if data["session"]:
            sessions.get(get_store(), data["session"])
        station, token = stations.create(get_store(), data["name"].strip(), session_id=data["session"] or None,
                                         lifetime_hours=data["lifetime"], actor=actor())
    except FieldsyncError as error:
        return _page(values=values, error=error)
    page, _status = _page(_join_offer(station, token))
    return page, 201


@bp.post("/stations/<station_id>/token")
@require("staff")
def renew_token(station_id):
    token = stations.new_token(get_store(), station_id)
    return _page(_join_offer(stations.live(get_store(), station_id), token))


@bp.post("/stations/<station_id>/revoke")
@require("staff")
def revoke_station(station_id):
    stations.revoke(get_store(), station_id)
    return redirect(url_for("stations.stations_page"))


@bp.get("/join")
def join():
    station = stations.by_token(get_store(), request.args.get("token", ""))
    if station is None or stations.expired(station):
        error = _expired().message if station else _("This join code is not valid any more. Ask staff for a new one.")
        return render_template("join.html", station=None, error=error), 401, {"Referrer-Policy": "no-referrer"}
    session.clear()
    session["station_id"] = station["id"]
    target = (url_for("kiosk.station", session_id=station["session_id"]) if station["session_id"]
              else url_for("kiosk.index"))
    body = render_template("join.html", station=station, token=request.args["token"], target=target)
    return body, 200, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
