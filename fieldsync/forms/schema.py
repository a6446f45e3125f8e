"""Tables for form definitions and their submissions (migration set "forms").

Listed in fieldsync.parts.MIGRATION_SETS; applied after the core set.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("forms")


@migrations()
def m001_forms_submissions(db: Database) -> None:
    db.executescript(
        """
        -- One row per version. A published version never changes: answers name
        -- the version they were validated against, so old ones stay readable.
        CREATE TABLE forms (
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            definition TEXT NOT NULL,
            published_at TEXT,
            hlc TEXT,
            origin TEXT,
            saved_at TEXT NOT NULL,
            saved_by TEXT,
            PRIMARY KEY (id, version)
        );
        -- Immutable, like check-ins: inserted once, merged by id, never updated.
        -- No foreign keys: submissions arrive at the hub in any order.
        CREATE TABLE submissions (
            id TEXT PRIMARY KEY,
            form_id TEXT NOT NULL,
            form_version INTEGER NOT NULL,
            session_id TEXT,
            person_id TEXT,
            data TEXT NOT NULL,
            submitted_at TEXT NOT NULL,
            hlc TEXT NOT NULL,
            node TEXT NOT NULL,
            actor TEXT,
            flags TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX submissions_form ON submissions(form_id, submitted_at);
        CREATE INDEX submissions_session ON submissions(session_id);
        CREATE INDEX submissions_person ON submissions(person_id);
        """
    )


@migrations()
def m002_builtin_forms(db: Database) -> None:
    from fieldsync.forms import catalogue

    catalogue.install_builtins(db)


@migrations()
def m003_form_ref(db: Database) -> None:
    # Sync addresses a record by one key column; a form version's is "id:version".
    db.executescript(
        """
        ALTER TABLE forms ADD COLUMN ref TEXT;
        UPDATE forms SET ref = id || ':' || version;
        CREATE UNIQUE INDEX forms_ref ON forms(ref);
        """
    )
