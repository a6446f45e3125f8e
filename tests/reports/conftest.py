"""The hand-computed city (tests/reports/fixture.py), built once; each test gets its own copy."""

from __future__ import annotations

import shutil

import pytest

from fieldsync.parts import open_store
from tests.reports import fixture


@pytest.fixture(scope="session")
def city_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("city-template")
    return path, fixture.build_instance(path)


@pytest.fixture
def ids(city_template) -> dict[str, str]:
    return city_template[1]


@pytest.fixture
def city_instance(city_template, tmp_path):
    target = tmp_path / "hub"
    shutil.copytree(city_template[0], target)
    return target


@pytest.fixture
def city(city_instance):
    """A Store on a fresh copy of the city."""
    with open_store(city_instance / "fieldsync.db") as opened:
        yield opened
