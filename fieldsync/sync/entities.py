"""Which records travel between nodes and the hub, and how each kind merges.

Sync moves records; it does not define them. Each synced table registers an
`Entity` here, and the push encoder, the hub merge and the pull all read this
registry instead of naming tables.

Three kinds:

- IMMUTABLE (check-ins, form submissions): written once on a node, pushed,
  inserted at the hub by id, never updated and never pulled back. They travel
  as a columnar block (`columns` maps each column to its wire codec, see
  fieldsync/sync/columnar.py), which is what keeps a check-in under 40 bytes.
- MUTABLE (people, sessions): merged field by field, last writer wins by HLC
  (records/mutable.py); concurrent edits of one field land in `conflicts`.
  Pulled by the nodes of the record's town (`scope="town"`).
- PUBLISHED (forms, badge keys, badge revocations): the hub publishes them
  to every node (`scope="all"`); a node takes the hub's version whole. If
  nodes write them too (revocations), `pushed=True`. Places are published to
  the nodes of their town and, for a county or city, of every town under it
  (`scope="place"`).

How another area adds an entity (e.g. forms/submissions, issue 5):

1. Write the table in your own migration set, with `id`, `hlc` and, for
   mutable or published records, `field_hlcs`/`updated_at` as records/mutable
   expects.
2. Write the outbox row in the same transaction as the record
   (`store.outbox.record_change(db, "submissions", id, "upsert", hlc, row)`;
   for immutable records the payload is the row itself).
3. In a module of yours, register it, with a marshmallow schema of the
   fields as they travel (it validates what the hub receives; a record that
   fails it goes to quarantine)::

       from fieldsync.sync import entities

       entities.register(entities.immutable(
           "submissions", SubmissionWireSchema,
           columns={"id": "ulid", "form_id": "dict", "form_version": "dict",
                    "session_id": "dict", "person_id": "dict", "data": "raw",
                    "hlc": "hlc", "node": "dict", "created_at": "time"}))
       entities.register(entities.published("forms", FormWireSchema))

4. Append your module's path to ENTITY_MODULES below (a one-line edit,
   like MIGRATION_SETS), so the CLI, the node and the hub all load it.

Entities not registered are never pushed: the node leaves their outbox rows
alone and the hub would quarantine them as unknown.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

IMMUTABLE, MUTABLE, PUBLISHED = "immutable", "mutable", "published"
CODECS = ("ulid", "dict", "person", "time", "hlc", "raw")   # person: a dict of people ids (sync/refs.py)

# Modules that register entities when imported (besides the built-in ones below).
ENTITY_MODULES: list[str] = ["fieldsync.forms.wire", "fieldsync.records.hour_reviews", "fieldsync.reports.filings_wire",
                              "fieldsync.records.awards", "fieldsync.records.consents",
                              "fieldsync.records.profile_requests", "fieldsync.reports.organisations",
                              "fieldsync.reports.targets_wire"]


@dataclass(frozen=True)
class Entity:
    name: str                    # the table, and the entity name in the outbox
    kind: str                    # IMMUTABLE, MUTABLE or PUBLISHED
    schema: type[Schema]         # the fields as they travel; validated at the hub
    pushed: bool = True          # nodes push it to the hub
    scope: str | None = None     # pulled by: "town" (the record's town), "place", "all", or None (never)
    key: str = "id"              # primary key column
    columns: dict[str, str] = field(default_factory=dict)  # IMMUTABLE: column -> codec
    # A test that needs the database (submissions: answers against the form version they name).
    # check(db, row) raises FieldsyncError/ValueError; the merge then quarantines the row.
    check: Callable[[Any, dict], None] | None = None
    # A child hub passes it on to its own parent (a filing is for the level just above: False).
    upward: bool = True
    # A published record that is not one row (a unit's targets, reports/targets_wire.py): its
    # fields as a pull sends them (read(db, key) -> dict), and how a pull applies them (apply(db, fields)).
    read: Callable[[Any, str], dict] | None = None
    apply: Callable[[Any, dict], None] | None = None

    def __post_init__(self):
        if self.kind not in (IMMUTABLE, MUTABLE, PUBLISHED):
            raise ValueError(f"unknown entity kind {self.kind!r}")
        if self.scope not in (None, "town", "place", "all"):
            raise ValueError(f"unknown pull scope {self.scope!r}")
        bad = [c for c in self.columns.values() if c not in CODECS]
        if bad:
            raise ValueError(f"unknown column codecs {bad}; use {CODECS}")
        if self.kind == IMMUTABLE and "id" not in self.columns:
            raise ValueError("an immutable entity travels in columns, starting with its id")


def immutable(name: str, schema: type[Schema], *, columns: dict[str, str],
              check: Callable[[Any, dict], None] | None = None) -> Entity:
    return Entity(name, IMMUTABLE, schema, pushed=True, scope=None, columns=columns, check=check)


def mutable(name: str, schema: type[Schema], *, scope: str = "town") -> Entity:
    return Entity(name, MUTABLE, schema, pushed=True, scope=scope)


def published(name: str, schema: type[Schema], *, pushed: bool = False, key: str = "id",
              scope: str = "all") -> Entity:
    return Entity(name, PUBLISHED, schema, pushed=pushed, scope=scope, key=key)


_REGISTRY: dict[str, Entity] = {}
_loaded = False
_loading = threading.RLock()


def register(entity: Entity) -> Entity:
    _REGISTRY[entity.name] = entity
    return entity


def _load() -> None:
    """Register every entity once. Threads that ask meanwhile wait for the whole registry: the
    hub receives a laptop's batches two at a time, and a half-filled registry would send a
    block of check-ins to quarantine as a kind the hub does not know."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        from fieldsync.sync import protocol

        for entity in protocol.BUILT_IN_ENTITIES:
            register(entity)
        for module in ENTITY_MODULES:
            importlib.import_module(module)
        _loaded = True


def get(name: str) -> Entity | None:
    _load()
    return _REGISTRY.get(name)


def all_entities() -> list[Entity]:
    _load()
    return list(_REGISTRY.values())


def pushed() -> list[Entity]:
    return [e for e in all_entities() if e.pushed]


def pulled() -> list[Entity]:
    return [e for e in all_entities() if e.scope is not None]
