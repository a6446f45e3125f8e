"""An admin signed in to the live node (the role that gets past every door, so bad input reaches
the code), and the sync suite's hub-and-nodes cluster for the hub's fault tests."""

from __future__ import annotations

import pytest

from tests.support import WebClient
from tests.sync.conftest import (  # noqa: F401
    cluster,
    empty_template,
    hub_instance,
    hub_template,
    town_b_template,
)


@pytest.fixture
def admin(live_admin) -> WebClient:
    """Here `admin` is the live node's (tests/conftest.py's `live_admin`): bad input meets the server."""
    return live_admin
