"""Tables and columns the records area adds after the core schema (store/schema.py).

A migration, once released, is never edited: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("fieldsync.records")


@migrations()
def m001_verified_and_certificates(db: Database) -> None:
    """逐条核实: who verified a person's record and when (mutable fields that sync like the rest);
    when their certificate number was given; and the counters certificate numbers are drawn from."""
    db.executescript(
        """
        ALTER TABLE people ADD COLUMN verified_at TEXT;
        ALTER TABLE people ADD COLUMN verified_by TEXT;
        ALTER TABLE people ADD COLUMN certificate_issued_at TEXT;
        CREATE INDEX people_certificate ON people(certificate_no);
        CREATE TABLE certificate_sequences (
            prefix TEXT PRIMARY KEY,        -- the number's text before its sequence (level and year in it)
            last INTEGER NOT NULL
        );
        """
    )
