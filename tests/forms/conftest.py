"""Fixtures for forms: a hub instance on disk (no sync needed), and form definitions to edit."""

from __future__ import annotations

import copy
import json

import pytest

from fieldsync import config
from fieldsync.forms import catalogue
from fieldsync.records import places, users
from fieldsync.store import Store
from tests.support import DEMO_PASSWORD


@pytest.fixture
def hub_instance(tmp_path):
    path = tmp_path / "hub"
    config.save(path, mode="hub")
    with Store(path / "fieldsync.db") as store:
        places.import_places(store, places.load_fixture()["places"])
        for name, role in (("admin", "admin"), ("staff", "staff")):
            users.create(store, name, DEMO_PASSWORD, role)
    return path


@pytest.fixture
def hub_store(hub_instance):
    with Store(hub_instance / "fieldsync.db") as opened:
        yield opened


def builtin(store: Store, form_id: str) -> dict:
    """A built-in definition, as a fresh document to edit."""
    return copy.deepcopy(catalogue.get(store, form_id)["definition"])


def fitness_v2(store: Store) -> dict:
    """Fitness monitoring, version 2: heights from 100 cm, and no more sit-ups."""
    document = builtin(store, "fitness_monitoring")
    height = next(f for f in document["fields"] if f["name"] == "height_cm")
    height["min"] = 100
    document["fields"] = [f for f in document["fields"] if f["name"] != "sit_ups"]
    return json.loads(json.dumps(document))


FITNESS_ANSWERS = {"measured_at": "2025-05-20", "age_group": "adult", "height_cm": 171.5, "weight_kg": 66,
                   "vital_capacity_ml": 3400, "grip_strength_kg": 41.2, "sit_and_reach_cm": -3.5,
                   "resting_heart_rate": 72, "sit_ups": 31, "chronic_condition": True,
                   "conditions": ["hypertension"]}
