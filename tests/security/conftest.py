"""Signed-in clients of every role on one live node."""

from __future__ import annotations

import pytest

from tests.support import WebClient


@pytest.fixture
def admin(live_node) -> WebClient:
    client = WebClient(live_node.url)
    assert client.login("admin").ok
    return client


@pytest.fixture
def routes_of_node(node_app):
    from tests.security.routes import routes

    return routes(node_app)
