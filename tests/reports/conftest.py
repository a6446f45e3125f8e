"""The hand-computed city (tests/reports/fixture.py; `city_template` in tests/conftest.py, built once
per session); each test gets its own copy."""

from __future__ import annotations

import pytest

from fieldsync.parts import open_store
from tests.backends import copy_instance


@pytest.fixture
def ids(city_template) -> dict[str, str]:
    return city_template[1]


@pytest.fixture
def city_instance(city_template, tmp_path):
    target = tmp_path / "hub"
    copy_instance(city_template[0], target)
    return target


@pytest.fixture
def city(city_instance):
    """A Store on a fresh copy of the city."""
    with open_store(city_instance / "fieldsync.db") as opened:
        yield opened
