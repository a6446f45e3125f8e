"""Which records travel between nodes and the hub, and how each kind merges.

Sync moves records; it does not define them. Each synced table is declared as
an `Entity` by its own area, the program's assembly (fieldsync/parts.py) lists
them all and installs the list here when it opens the store, and the push
encoder, the hub merge and the pull all read it instead of naming tables.

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
3. In a module of yours, declare it, with a marshmallow schema of the
   fields as they travel (it validates what the hub receives; a record that
   fails it goes to quarantine)::

       from fieldsync.sync import entities

       ENTITIES = [
           entities.immutable(
               "submissions", SubmissionWireSchema,
               columns={"id": "ulid", "form_id": "dict", "form_version": "dict",
                        "session_id": "dict", "person_id": "dict", "data": "raw",
                        "hlc": "hlc", "node": "dict", "created_at": "time"}),
           entities.published("forms", FormWireSchema),
       ]

4. Add `*your_module.ENTITIES` to ENTITIES in fieldsync/parts.py (a one-line
   edit, beside MIGRATION_SETS), so the CLI, the node and the hub all have it.

Entities not listed are never pushed: the node leaves their outbox rows
alone and the hub would quarantine them as unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

IMMUTABLE, MUTABLE, PUBLISHED = "immutable", "mutable", "published"
CODECS = ("ulid", "dict", "person", "time", "hlc", "raw")   # person: a dict of people ids (sync/refs.py)


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


def install(listed: Iterable[Entity]) -> None:
    """Make `listed` the entities that travel (fieldsync/parts.py, when it opens a store). The
    same list for every store of the process: installing it again changes nothing."""
    listed = list(listed)
    names = [entity.name for entity in listed]
    if len(set(names)) != len(names):
        raise ValueError(f"an entity is listed twice: {sorted(n for n in names if names.count(n) > 1)}")
    if _REGISTRY and list(_REGISTRY.values()) != listed:
        raise ValueError("another list of entities is installed already")
    _REGISTRY.update((entity.name, entity) for entity in listed)


def _installed() -> dict[str, Entity]:
    if not _REGISTRY:
        raise RuntimeError("no entities installed: open the store with fieldsync.parts.open_store")
    return _REGISTRY


def get(name: str) -> Entity | None:
    return _installed().get(name)


def all_entities() -> list[Entity]:
    return list(_installed().values())


def pushed() -> list[Entity]:
    return [e for e in all_entities() if e.pushed]


def pulled() -> list[Entity]:
    return [e for e in all_entities() if e.scope is not None]
