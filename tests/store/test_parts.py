"""fieldsync/parts.py lists every area's migration set and synced entities, once (issue 16)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from sqlite_utils.migrations import Migrations

import fieldsync
from fieldsync import parts
from fieldsync.sync import entities


def _every_module():
    for info in pkgutil.walk_packages(fieldsync.__path__, "fieldsync."):
        if not info.name.endswith("__main__"):   # that one runs the command
            yield importlib.import_module(info.name)


def test_every_migration_set_and_entity_in_the_tree_is_listed_once():
    sets = [value for module in _every_module() for value in vars(module).values()
            if isinstance(value, Migrations)]
    assert sorted(map(id, set(sets))) == sorted(map(id, parts.MIGRATION_SETS))
    declared = {id(e) for module in _every_module() for e in getattr(module, "ENTITIES", ())
                if isinstance(e, entities.Entity)}
    assert declared <= {id(e) for e in parts.ENTITIES}
    assert len({e.name for e in parts.ENTITIES}) == len(parts.ENTITIES)


def test_a_second_different_list_of_entities_is_refused():
    entities.install(parts.ENTITIES)
    entities.install(parts.ENTITIES)   # the same list again, as every store opened installs it
    with pytest.raises(ValueError):
        entities.install(parts.ENTITIES[:-1])
