"""The web app: create_app() is the only way to make one (node or hub)."""

from __future__ import annotations

import os

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from fieldsync import config as settings
from fieldsync.parts import open_store
from fieldsync.printing import templates_root
from fieldsync.records.pii import write_secret
from fieldsync.server import extensions


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building the signer for a request that
    carries no cookie: every scan a phone or a scanner sends with its bearer token."""

    def open_session(self, app, request):
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def create_app(test_config: dict | None = None, *, instance: str | os.PathLike | None = None) -> Flask:
    instance_path = settings.resolve_instance(instance or (test_config or {}).get("INSTANCE"))
    root = templates_root()
    app = Flask("fieldsync", instance_path=str(instance_path), template_folder=str(root),
                static_folder=str(root / "static"), static_url_path="/static")
    from fieldsync.server.http import WholeNumberConverter

    app.url_map.converters["int"] = WholeNumberConverter
    app.config.update(settings.load(instance_path))
    if test_config:
        app.config.update(test_config)
    instance_path.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = write_secret(instance_path / "session.key")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="fieldsync_session",
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.session_interface = CookieSessions()
    store = open_store(instance_path / "fieldsync.db", hub=app.config["MODE"] == "hub")
    app.extensions[extensions.STORE] = store
    app.extensions[extensions.BEARER_RESOLVERS] = []   # filled below by the areas that take a token
    from fieldsync.reports import rollup

    rollup.keep_live(store, app.config["MODE"] == "hub")

    from fieldsync.server import (
        accounts,
        admin,
        api,
        auth,
        errors,
        headers,
        i18n,
        kiosk,
        people_pages,
        roster_pages,
        sessions_pages,
        tables,
    )

    i18n.init_app(app)
    tables.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(kiosk.bp)
    from fieldsync.server import stations

    stations.init_app(app)
    app.register_blueprint(stations.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(people_pages.bp)
    app.register_blueprint(sessions_pages.bp)
    app.register_blueprint(roster_pages.bp)
    app.register_blueprint(accounts.bp)
    from fieldsync.server import forms_api, forms_pages

    app.register_blueprint(forms_api.bp)
    app.register_blueprint(forms_pages.bp)
    from fieldsync.server import papers

    app.register_blueprint(papers.bp)
    from fieldsync.server import exports

    app.register_blueprint(exports.bp)
    from fieldsync.server import hours_pages

    app.register_blueprint(hours_pages.bp)
    from fieldsync.server import (
        awards_pages,
        public_pages,
        self_service_staff,
        service_pages,
    )

    app.register_blueprint(awards_pages.bp)
    self_service_staff.init_app(app)    # correction requests; hub: /me/, /verify/ (decision 0250)
    service_pages.init_app(app)
    if app.config["MODE"] == "hub":
        from fieldsync.server import (
            dashboard,
            filings_pages,
            hub_people,
            places_pages,
            theme_days_pages,
        )

        app.register_blueprint(dashboard.bp)
        app.register_blueprint(hub_people.bp)
        app.register_blueprint(filings_pages.bp)
        app.register_blueprint(places_pages.bp)
        app.register_blueprint(theme_days_pages.bp)
        from fieldsync.server import pairings_pages

        app.register_blueprint(public_pages.bp)   # the association's public page: hub only
        app.register_blueprint(pairings_pages.bp)
    from fieldsync.server import held, hub, sync_api, sync_banner

    sync_api.init_app(app)      # hub: enroll/push/pull; node: run/status
    hub.init_app(app)           # hub: nodes, conflicts, quarantine, bundle pages
    sync_banner.init_app(app)   # node: the sync line on every page
    held.init_app(app)          # node and child hub: what a pull from above could not apply
    return app



def close(app: Flask) -> None:
    """The app's teardown, when its server stops: the store's writer finishes what is queued and
    every connection closes, so SQLite folds the WAL back into the database file."""
    app.extensions[extensions.STORE].close()
