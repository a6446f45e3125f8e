"""Signed-in clients of every role on one live node, and the routes of its app."""

from __future__ import annotations

import pytest

from tests.fault.conftest import admin  # noqa: F401  (the same signed-in admin)


@pytest.fixture
def routes_of_node(node_app):
    from tests.security.routes import routes

    return routes(node_app)
