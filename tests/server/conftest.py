"""The hub pages' shared fixture: the hand-computed demo city (tests/reports/fixture.py) on a hub app
in this process, one copy per test module (its tests share that copy and run in file order). A
module that needs the city prepared otherwise defines its own `hub` with `city_site()`.
(`staff` and `admin` stay in the modules: tests/conftest.py's `staff` is the laptop's.)"""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest

from tests.support import Site, in_process


@contextmanager
def city_site(city_template, folder, prepare=None):
    """A copy of the city in `folder`, `prepare(store)` run on it, served by a hub app here."""
    shutil.copytree(city_template[0], folder)
    if prepare:
        from fieldsync.store import Store

        with Store(folder / "fieldsync.db") as store:
            prepare(store)
    with in_process(folder, ids=city_template[1]) as site:
        yield site


@pytest.fixture(scope="module")
def hub(city_template, tmp_path_factory) -> Site:
    with city_site(city_template, tmp_path_factory.mktemp("hub") / "hub") as site:
        yield site

