"""A published record (a form, a badge revocation, an hour review...) is taken whole, unless the
one held here is newer: how a hub merges what a laptop publishes, and how a laptop or a child
hub applies what its hub publishes."""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.sync import entities


def upsert_newer(db: Database, entity: entities.Entity, row: dict) -> None:
    """Take a published record whole, unless the one we hold is newer."""
    names = list(row)
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != entity.key)
    newer = f" WHERE excluded.hlc >= {entity.name}.hlc OR {entity.name}.hlc IS NULL" if "hlc" in row else ""
    db.execute(f"INSERT INTO {entity.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
               f" ON CONFLICT({entity.key}) DO UPDATE SET {updates}{newer}", [row[n] for n in names])
