"""Signed-in clients of every role on one live node, and the routes of its app."""

from __future__ import annotations

import pytest

from tests.fault.conftest import admin  # noqa: F401  (the same signed-in admin)
from tests.sync.conftest import (cluster, empty_template, hub_instance, hub_template,  # noqa: F401
                                 town_b_template)


@pytest.fixture
def routes_of_node(node_app):
    from tests.security.routes import routes

    return routes(node_app)
