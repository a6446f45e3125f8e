"""Fixtures for forms: a hub's database, form definitions to edit, and the sync suite's fixtures.

The sync suite's hub and town laptops (`hub_instance`, `cluster`) are imported
whole, with whatever fixtures they are built on, so those can grow without
breaking these tests.
"""

from __future__ import annotations

import copy
import json

import pytest

from fieldsync.forms import catalogue
from fieldsync.parts import open_store
from fieldsync.store import Store
from tests.sync.conftest import *


@pytest.fixture
def hub_store(hub_instance):
    with open_store(hub_instance / "fieldsync.db") as opened:
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
