"""Every area's parts, listed once and in order: its migration set and the records it syncs.

This is the program's assembly, above every area: create_app, the CLI and the tests open the
instance database through `open_store`, which hands the lists down. The areas below never
import each other by name to find them (issue 16).

A new area adds one line to each list that concerns it:
- MIGRATION_SETS: its sqlite-utils `Migrations`, applied in this order after the core set
  (a released migration is never edited: add a new one);
- ENTITIES: its synced records (sync/entities.py says how to declare one).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync import config
from fieldsync.forms import schema as forms_schema
from fieldsync.forms import wire as forms_wire
from fieldsync.records import (
    awards,
    awards_schema,
    consents,
    hour_reviews,
    places,
    profile_requests,
    self_schema,
    stations,
    trainers,
    users,
)
from fieldsync.records import schema as records_schema
from fieldsync.reports import (
    filings,
    filings_wire,
    organisations,
    pairing_schema,
    targets,
    targets_wire,
)
from fieldsync.reports import schema as reports_schema
from fieldsync.store import Store, dialect
from fieldsync.store import schema as store_schema
from fieldsync.store.db import Shared
from fieldsync.sync import entities, protocol
from fieldsync.sync import schema as sync_schema
from fieldsync.sync.downstream import doubles

MIGRATION_SETS: Sequence[Migrations] = (
    store_schema.core,
    records_schema.migrations,
    users.migrations,
    places.migrations,
    stations.migrations,
    forms_schema.migrations,
    sync_schema.migrations,
    doubles.migrations,
    reports_schema.migrations,
    targets.migrations,
    hour_reviews.migrations,
    filings.migrations,
    awards_schema.migrations,
    self_schema.migrations,
    trainers.migrations,
    pairing_schema.migrations,
)

ENTITIES: Sequence[entities.Entity] = (
    *protocol.BUILT_IN_ENTITIES,
    *forms_wire.ENTITIES,
    *hour_reviews.ENTITIES,
    *filings_wire.ENTITIES,
    *awards.ENTITIES,
    *consents.ENTITIES,
    *profile_requests.ENTITIES,
    *organisations.ENTITIES,
    *targets_wire.ENTITIES,
)


def migrate(db: Database) -> None:
    """Bring a database up to date: every set, in order (each skips what it applied before)."""
    for migrations in MIGRATION_SETS:
        migrations.apply(db)


def open_store(path: str | Path, *, hub: bool = False, database: str | None = None) -> Shared:
    """The instance database, migrated, with the synced entities installed for sync/ to read.

    path is the instance folder's fieldsync.db. A hub whose config.toml (or FIELDSYNC_DATABASE)
    names a PostgreSQL database, or that is given one, keeps its data there instead; its keys
    stay in the instance folder (decision 0300)."""
    entities.install(ENTITIES)
    path = Path(path)
    database = database or config.load(path.parent).get("DATABASE")
    if dialect.is_postgres(database):
        from fieldsync.store import pg  # psycopg is loaded only where it is used

        return pg.PgStore(database, path, migrations=MIGRATION_SETS)
    return Store(path, hub=hub, migrate=migrate)
