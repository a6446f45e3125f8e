"""A node or hub app in process with a signed-in client per role and the routes of its app."""

from __future__ import annotations

import pytest

from tests.e2e.tls_server import TLSLiveServer
from tests.security.routes import routes
from tests.support import Site, in_process
from tests.sync.conftest import (  # noqa: F401
    cluster,
    empty_template,
    hub_instance,
    hub_template,
    town_b_template,
)


@pytest.fixture(params=["node", pytest.param("hub", marks=pytest.mark.hub)])
def site(request) -> Site:
    """The node's or the hub's app with `.routes` (every route of it) and `.clients` (one signed-in
    client per role); `site.client()` is a stranger."""
    instance = request.getfixturevalue("hub_instance" if request.param == "hub" else "node_instance")
    with in_process(instance, MODE=request.param) as made:
        made.routes = routes(made.app)
        made.clients = {role: made.signed_in(role) for role in ("trainer", "staff", "admin")}
        yield made


@pytest.fixture
def tls_node(node_instance):
    """The demo town served as phones reach it: `fieldsync serve --tls` on 127.0.0.1."""
    with TLSLiveServer(node_instance) as server:
        yield server
