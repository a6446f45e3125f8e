"""A live node or hub with a signed-in client per role and the routes of its app."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fieldsync.server import create_app
from tests.e2e.tls_server import TLSLiveServer
from tests.fault.conftest import admin  # noqa: F401  (the same signed-in admin)
from tests.security.routes import routes
from tests.support import LiveServer, WebClient
from tests.sync.conftest import (  # noqa: F401
    cluster,
    empty_template,
    hub_instance,
    hub_template,
    town_b_template,
)


@dataclass
class Site:
    """A running node or hub, the routes of its app, and a signed-in client per role."""

    server: LiveServer
    routes: list
    clients: dict[str, WebClient]


@pytest.fixture(params=["node", "hub"])
def site(request):
    hub = request.param == "hub"
    instance = request.getfixturevalue("hub_instance" if hub else "node_instance")
    app = create_app({"MODE": request.param, "AUTO_SYNC_SECONDS": 0}, instance=instance)
    try:
        found = routes(app)
    finally:
        app.extensions["fieldsync.store"].close()
    with LiveServer(instance, hub=hub) as server:
        clients = {}
        for role in ("trainer", "staff", "admin"):
            clients[role] = WebClient(server.url)
            assert clients[role].login(role).ok
        yield Site(server, found, clients)


@pytest.fixture
def tls_node(node_instance):
    """The demo town served as phones reach it: `fieldsync serve --tls` on 127.0.0.1."""
    with TLSLiveServer(node_instance) as server:
        yield server
