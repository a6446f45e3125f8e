"""An admin signed in to the live node: the role that gets past every door, so bad input reaches the code."""

from __future__ import annotations

import pytest

from tests.support import WebClient


@pytest.fixture
def admin(live_node) -> WebClient:
    client = WebClient(live_node.url)
    assert client.login("admin").ok
    return client
