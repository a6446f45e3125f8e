"""The core schema migrations, registered in order with sqlite-utils.

Each area owns one migration set; fieldsync/parts.py lists them all (this one first) and
applies them in that order. A migration, once released, is never edited: add a new one.
"""

from __future__ import annotations

import secrets

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

core = Migrations("fieldsync")


@core()
def m001_meta_places_people(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE places (
            code TEXT PRIMARY KEY,          -- 6-digit county or 12-digit town/village code, as text
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('province','city','county','town','village')),
            parent TEXT,
            population INTEGER
        );
        CREATE INDEX places_parent ON places(parent);
        CREATE TABLE people (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            gender TEXT,
            birth_year INTEGER,
            phone TEXT,
            id_number_enc TEXT,
            id_number_hash TEXT,
            id_number_masked TEXT,
            town TEXT,
            village TEXT,
            level TEXT NOT NULL DEFAULT 'none',
            specialty TEXT,
            certificate_no TEXT,
            status TEXT NOT NULL DEFAULT 'active',
            registered_at TEXT,
            badge_generation INTEGER NOT NULL DEFAULT 1,
            origin TEXT,
            hlc TEXT,
            field_hlcs TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT
        );
        CREATE INDEX people_town ON people(town);
        CREATE INDEX people_village ON people(village);
        CREATE INDEX people_phone ON people(phone);
        CREATE INDEX people_name ON people(name);
        CREATE INDEX people_id_hash ON people(id_number_hash);
        CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            action TEXT NOT NULL,
            changes TEXT NOT NULL,
            hlc TEXT,
            actor TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX history_record ON history(entity, record_id);
        """
    )


@core()
def m002_sessions_checkins(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            organizer TEXT,
            summary TEXT,
            mode TEXT NOT NULL DEFAULT 'offline',
            starts_at TEXT,
            ends_at TEXT,
            town TEXT,
            village TEXT,
            venue TEXT,
            contact_name TEXT,
            contact_phone TEXT,
            notes TEXT,
            form_id TEXT,
            hours REAL,
            status TEXT NOT NULL DEFAULT 'active',
            origin TEXT,
            hlc TEXT,
            field_hlcs TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT
        );
        CREATE INDEX sessions_town ON sessions(town);
        CREATE INDEX sessions_starts ON sessions(starts_at);
        -- Scans that happened are facts: no foreign keys, rows arrive in any order.
        CREATE TABLE checkins (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            person_id TEXT,
            badge_key INTEGER,
            badge_generation INTEGER,
            direction TEXT NOT NULL DEFAULT 'in',
            scanned_at TEXT NOT NULL,
            hlc TEXT NOT NULL,
            node TEXT NOT NULL,
            station TEXT,
            method TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX checkins_session_person ON checkins(session_id, person_id);
        CREATE INDEX checkins_person ON checkins(person_id);
        CREATE INDEX checkins_scanned ON checkins(scanned_at);
        -- Every attempt at the kiosk, including refused ones (local audit, not synced).
        CREATE TABLE scan_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            client_id TEXT,
            session_id TEXT,
            station TEXT,
            scanned TEXT,
            result TEXT NOT NULL,
            person_id TEXT,
            checkin_id TEXT,
            at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX scan_log_client ON scan_log(client_id) WHERE client_id IS NOT NULL;
        CREATE VIEW attendance AS
            SELECT session_id, person_id,
                   MIN(CASE WHEN direction = 'in' THEN scanned_at END) AS first_in,
                   MAX(CASE WHEN direction = 'out' THEN scanned_at END) AS last_out,
                   COUNT(*) AS scans,
                   COUNT(DISTINCT station) AS stations
            FROM checkins WHERE person_id IS NOT NULL
            GROUP BY session_id, person_id;
        """
    )


@core()
def m003_badges_users_outbox(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE badge_keys (
            key_id INTEGER PRIMARY KEY CHECK (key_id BETWEEN 0 AND 65535),
            public_key TEXT NOT NULL,
            owner TEXT,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE badge_revocations (
            person_id TEXT PRIMARY KEY,
            min_generation INTEGER NOT NULL,
            reason TEXT,
            hlc TEXT,
            revoked_at TEXT NOT NULL
        );
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin','staff','trainer')),
            created_at TEXT NOT NULL,
            disabled_at TEXT
        );
        -- The outbox. AUTOINCREMENT: a seq is never reused, even after the
        -- newest rows are deleted (DESIGN §4 failure case 2).
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            change_id TEXT NOT NULL UNIQUE,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert','delete')),
            hlc TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE sync_state (
            peer TEXT PRIMARY KEY,
            hub_epoch TEXT,
            last_acked_seq INTEGER NOT NULL DEFAULT 0,
            pull_cursor TEXT,
            last_attempt TEXT,
            last_success TEXT,
            last_error TEXT,
            clock_offset_ms INTEGER NOT NULL DEFAULT 0
        );
        """
    )
    # Identity of this database file: the node id used as origin, and the
    # replica id that keys its change stream (failure case 1: a restored or
    # cloned file takes a new replica id, never reuses one).
    from fieldsync.store.db import new_id

    db["meta"].insert_all(
        [
            {"key": "node_id", "value": new_id()},
            {"key": "replica_id", "value": secrets.token_hex(8)},
        ]
    )


@core()
def m004_outbox_acks(db: Database) -> None:
    """When the hub acknowledged the outbox up to each point: acknowledged rows are kept for the
    retention period from then, not from when they were written (failure case 3), or a backlog
    older than the period would go the moment it is acknowledged. One row per acknowledgement,
    not per change."""
    db.executescript(
        """
        CREATE TABLE outbox_acks (
            acked_to INTEGER PRIMARY KEY,   -- every change up to this seq
            at TEXT NOT NULL                -- when, in hub-corrected time
        );
        CREATE INDEX outbox_acks_at ON outbox_acks(at);
        -- Rows acknowledged before this table existed have no date of acknowledgement. Dating
        -- them now keeps them a full period more: a hub restored from a backup may still need
        -- them, and a few more days of rows cost little, while deleting cannot be undone.
        INSERT INTO outbox_acks (acked_to, at)
            SELECT last_acked_seq,
                   strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('%+.3f seconds', clock_offset_ms / 1000.0))
            FROM sync_state WHERE peer = 'hub' AND last_acked_seq > 0;
        """
    )


@core()
def m005_badge_key_certificates(db: Database) -> None:
    """The hub certifies each laptop's issuer key for its town and the database ids it registers
    people under (decision 0065). Keys without a certificate vouch only as records/badges says."""
    db.executescript(
        """
        ALTER TABLE badge_keys ADD COLUMN town TEXT;
        ALTER TABLE badge_keys ADD COLUMN origins TEXT;       -- JSON list, as certified
        ALTER TABLE badge_keys ADD COLUMN certificate TEXT;   -- the hub's Ed25519 signature, base64
        """
    )


@core()
def m006_sessions_js365(db: Database) -> None:
    """What js365's 赛事活动 entry asks that a session did not hold: the 承办单位 (the 举办单位,
    `organizer`, is its 主办单位) and the "已在全民健身信息服务平台填报" mark, when and by whom.
    The mark is a session field like any other: it syncs and merges field by field."""
    db.executescript(
        """
        ALTER TABLE sessions ADD COLUMN undertaker TEXT;       -- 承办单位
        ALTER TABLE sessions ADD COLUMN js365_filed_at TEXT;   -- UTC, when it was filed on js365
        ALTER TABLE sessions ADD COLUMN js365_filed_by TEXT;   -- the account that marked it
        """
    )


@core()
def m007_exports(db: Database) -> None:
    """Each S12 changes-only export per unit, and what it held: the next one lists what differs
    (docs/decisions/0145-s12-export-and-full-id-numbers.md). Local to the instance, never synced."""
    db.executescript(
        """
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,             -- 's12'
            unit TEXT NOT NULL,             -- the place code exported
            at TEXT NOT NULL,
            actor TEXT,
            changes_only INTEGER NOT NULL,  -- 1: it moved the unit's high-water mark (export_state)
            rows INTEGER NOT NULL,
            full_numbers INTEGER NOT NULL   -- 1: full ID numbers were written (logged, CONVENTIONS.md)
        );
        CREATE INDEX exports_unit ON exports(kind, unit, id);
        -- The high-water mark: each record as the unit's last changes-only export left it.
        CREATE TABLE export_state (
            kind TEXT NOT NULL,
            unit TEXT NOT NULL,
            record_id TEXT NOT NULL,
            digest TEXT NOT NULL,          -- of the exported columns, ID number by its keyed hash
            status TEXT NOT NULL,          -- 'active' or 'cancelled' as exported
            export_id INTEGER NOT NULL,
            PRIMARY KEY (kind, unit, record_id)
        );
        """
    )


@core()
def m008_activity_tags_and_theme_days(db: Database) -> None:
    """What the 临汾 notice asks of each activity (体育"六进" venue, groups served, a safety plan on
    file) and the theme day it serves, chosen from the association's list for the year, which
    the hub publishes to every laptop (records/theme_days.py, decision 0141)."""
    db.executescript(
        """
        ALTER TABLE sessions ADD COLUMN venue_type TEXT;      -- records/schemas.VENUE_TYPES code
        ALTER TABLE sessions ADD COLUMN groups_served TEXT;   -- GROUPS_SERVED codes, comma-separated
        ALTER TABLE sessions ADD COLUMN safety_plan INTEGER;  -- 1 on file, 0 not, NULL not said
        ALTER TABLE sessions ADD COLUMN theme_day TEXT;       -- theme_days.id
        CREATE INDEX sessions_theme_day ON sessions(theme_day) WHERE theme_day IS NOT NULL;
        CREATE TABLE theme_days (
            id TEXT PRIMARY KEY,
            year INTEGER NOT NULL,
            name TEXT NOT NULL,
            starts_on TEXT NOT NULL,        -- YYYY-MM-DD
            ends_on TEXT NOT NULL,
            hlc TEXT,
            updated_at TEXT,
            updated_by TEXT
        );
        CREATE INDEX theme_days_year ON theme_days(year, starts_on);
        """
    )

