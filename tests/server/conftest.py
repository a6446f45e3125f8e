"""The hub pages' shared fixture: the hand-computed demo city (tests/reports/fixture.py) served by a
hub process for each test module. A module that needs the city prepared otherwise defines its own
`hub`. (`staff` and `admin` stay in the modules: tests/conftest.py's `staff` is the laptop's.)"""

from __future__ import annotations

import pytest

from tests.reports import fixture
from tests.support import LiveServer


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub")
    ids = fixture.build_instance(path)
    with LiveServer(path, hub=True) as server:
        server.ids = ids
        yield server

