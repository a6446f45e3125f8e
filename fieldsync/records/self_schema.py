"""Tables of the instructor's own page (issue 15): personal links, 志愿服务记录证明 issued, and
the corrections an instructor asks for. Links and certificates live on the hub only, which serves
the page and signs both; requests also travel to the person's town laptop, whose staff decide
them (docs/decisions/0250-the-instructors-own-page.md)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("fieldsync.self_service")


@migrations()
def m001_links_certificates_requests(db: Database) -> None:
    db.executescript(
        """
        -- One row per person who was ever given a link: raising the generation, or revoking,
        -- makes every link printed before fail.
        CREATE TABLE personal_links (
            person_id TEXT PRIMARY KEY,
            generation INTEGER NOT NULL,
            revoked_at TEXT,
            issued_at TEXT NOT NULL,
            actor TEXT
        );
        -- Every 志愿服务记录证明 as issued: the figures it states, signed with the hub's key.
        CREATE TABLE service_certificates (
            code TEXT PRIMARY KEY,      -- 16 base32 characters, a digest of the signature
            person_id TEXT NOT NULL,
            year INTEGER NOT NULL,
            name TEXT NOT NULL,
            minutes INTEGER NOT NULL,
            activities INTEGER NOT NULL,
            issued_on TEXT NOT NULL,
            key_id INTEGER NOT NULL,
            signature TEXT NOT NULL,
            actor TEXT
        );
        CREATE INDEX service_certificates_person ON service_certificates(person_id, year);
        -- A phone or specialty the instructor asks to correct; staff decide, nothing else edits.
        -- Published to the person's town; the laptop's decision comes back (records/profile_requests).
        CREATE TABLE profile_requests (
            id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL,
            town TEXT,
            field TEXT NOT NULL CHECK (field IN ('phone', 'specialty')),
            value TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by TEXT,
            decided_at TEXT,
            reason TEXT,
            hlc TEXT NOT NULL,
            origin TEXT                 -- the database that wrote the latest step (hub or laptop)
        );
        CREATE INDEX profile_requests_waiting ON profile_requests(status, town);
        CREATE INDEX profile_requests_person ON profile_requests(person_id, created_at);
        """
    )
