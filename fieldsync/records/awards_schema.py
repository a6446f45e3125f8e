"""Tables of the 最美社会体育指导员 selection: nominations, the association's results, and
people's consent to be shown in public (docs/decisions/0240-nominations-results-consent.md).

All three are append-only or taken whole over sync, and each row names its town (the
nominee's, the person's): the hub publishes it to that town's laptops.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("fieldsync.awards")


@migrations()
def a001_nominations_results_consents(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE nominations (
            id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL,
            town TEXT,                  -- the nominee's town: whose laptops pull it
            year INTEGER NOT NULL,
            reason TEXT NOT NULL,
            nominated_by TEXT,          -- the account that nominated
            nominator_unit TEXT,        -- its unit: the laptop's town, or the hub's (account's) unit
            hours REAL,                 -- the record behind it, as taken at record_at (reviewed hours)
            activities INTEGER,
            estimated INTEGER,          -- of those activities, how many with an estimated scan-out
            trainings INTEGER,
            record_at TEXT,
            created_at TEXT NOT NULL,
            hlc TEXT NOT NULL,
            origin TEXT                 -- who made the nomination; a refresh keeps it
        );
        CREATE INDEX nominations_year ON nominations(year, town);
        CREATE INDEX nominations_person ON nominations(person_id, year);
        CREATE TABLE award_results (
            id TEXT PRIMARY KEY,
            nomination_id TEXT NOT NULL,
            town TEXT,
            decision TEXT NOT NULL CHECK (decision IN ('selected', 'not_selected', 'province')),
            note TEXT,
            actor TEXT,
            created_at TEXT NOT NULL,
            hlc TEXT NOT NULL,
            origin TEXT
        );
        CREATE INDEX award_results_nomination ON award_results(nomination_id, hlc);
        -- The latest step of each nomination is its result.
        CREATE VIEW award_verdicts AS SELECT r.nomination_id, r.decision, r.note, r.actor, r.created_at
            FROM award_results r WHERE r.hlc = (SELECT MAX(x.hlc) FROM award_results x
                WHERE x.nomination_id = r.nomination_id);
        CREATE TABLE consents (
            id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL,
            town TEXT,                  -- the person's town
            action TEXT NOT NULL CHECK (action IN ('give', 'withdraw')),
            given_on TEXT NOT NULL,     -- the day the person gave (or withdrew) it, YYYY-MM-DD
            recorded_by TEXT,
            created_at TEXT NOT NULL,
            hlc TEXT NOT NULL,
            origin TEXT
        );
        CREATE INDEX consents_person ON consents(person_id, hlc);
        -- People whose latest consent step gives it: the only ones a public page may name.
        CREATE VIEW consents_now AS SELECT c.person_id, c.given_on, c.recorded_by FROM consents c
            WHERE c.action = 'give' AND c.hlc = (SELECT MAX(x.hlc) FROM consents x WHERE x.person_id = c.person_id);
        """
    )
