"""Tables of 结对子 (decision 0231): sports organisations as records, pairings that name one,
the fitness teams (健身团队) a pairing formed, and the local leaders it found (`people.recruited_via`).

Organisations, pairings and teams are the hub's records, published to the laptops (pairings
and teams to their village's town) like theme days; a laptop reads them and never sends them.
A migration, once released, is never edited: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from fieldsync.store.db import new_id

migrations = Migrations("fieldsync.organisations")


@migrations()
def o001_organisations(db: Database) -> None:
    """Organisations become records; each pairing's free-text organisation becomes one (by its
    text, so two pairings of one name share it), and pairings carry their village's town."""
    db.executescript(
        """
        CREATE TABLE organisations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'other',   -- organisations.KINDS
            contact_name TEXT,
            contact_phone TEXT,
            hlc TEXT,
            updated_at TEXT,
            updated_by TEXT
        );
        CREATE UNIQUE INDEX organisations_name ON organisations(name);
        CREATE TABLE pairings_new (
            id TEXT PRIMARY KEY,
            organisation_id TEXT NOT NULL REFERENCES organisations(id),
            village TEXT NOT NULL,          -- the community or village it is paired with (12-digit code)
            town TEXT,                      -- the village's town: whose laptops pull the pairing
            since TEXT,
            notes TEXT,
            created_at TEXT NOT NULL,
            actor TEXT,
            hlc TEXT
        );
        CREATE TABLE fitness_teams (
            id TEXT PRIMARY KEY,
            pairing_id TEXT NOT NULL REFERENCES pairings(id),
            town TEXT,                      -- the pairing's town
            name TEXT NOT NULL,
            formed_on TEXT,
            members INTEGER,
            created_at TEXT NOT NULL,
            actor TEXT,
            hlc TEXT
        );
        CREATE INDEX fitness_teams_pairing ON fitness_teams(pairing_id);
        ALTER TABLE people ADD COLUMN recruited_via TEXT;   -- the pairing where this local leader was found
        """
    )
    names = [row[0] for row in db.execute("SELECT DISTINCT organisation FROM pairings ORDER BY organisation")]
    db["organisations"].insert_all({"id": new_id(), "name": name, "kind": "other"} for name in names)
    db.executescript(
        """
        INSERT INTO pairings_new (id, organisation_id, village, town, since, notes, created_at, actor)
            SELECT p.id, o.id, p.village, (SELECT parent FROM places WHERE code = p.village), p.since, p.notes,
                   p.created_at, p.actor
            FROM pairings p JOIN organisations o ON o.name = p.organisation;
        -- session_pairings refers to pairings (foreign keys are on): set its rows aside meanwhile.
        CREATE TEMP TABLE kept_links AS SELECT * FROM session_pairings;
        DELETE FROM session_pairings;
        DROP TABLE pairings;
        ALTER TABLE pairings_new RENAME TO pairings;
        INSERT INTO session_pairings SELECT * FROM kept_links;
        DROP TABLE kept_links;
        CREATE UNIQUE INDEX pairings_pair ON pairings(organisation_id, village);
        CREATE INDEX pairings_town ON pairings(town);
        """
    )
