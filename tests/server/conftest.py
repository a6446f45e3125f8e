"""The hub pages' shared fixture: the hand-computed demo city (tests/reports/fixture.py, built once
per session as `city_template`) on a hub app in this process, one copy per test module: the module's
tests share that copy and run in file order. A module that needs the city prepared otherwise defines
its own `hub` the same way, preparing its copy before the app opens it.
(`staff` and `admin` stay in the modules: tests/conftest.py's `staff` is the laptop's.)"""

from __future__ import annotations

import pytest

from tests.backends import copy_instance
from tests.support import Site, in_process


@pytest.fixture(scope="module")
def hub(city_template, tmp_path_factory) -> Site:
    path = copy_instance(city_template[0], tmp_path_factory.mktemp("hub") / "hub")
    with in_process(path, ids=city_template[1]) as site:
        yield site
