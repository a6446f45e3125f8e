"""Sync tables. Applied on nodes and hubs alike (one schema everywhere); the hub-only
ones stay empty on a node.
"""

from __future__ import annotations

import secrets

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("fieldsync.sync")


@migrations()
def m001_hub_tables(db: Database) -> None:
    db.executescript(
        """
        -- Enrolled laptops. The hub keeps only hashes of tokens and enrollment codes.
        CREATE TABLE nodes (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            town TEXT NOT NULL,
            code_hash TEXT UNIQUE,
            code_expires_at TEXT,
            token_hash TEXT UNIQUE,
            origin TEXT,                  -- the laptop database's own id (HLC node part)
            signing_key TEXT,             -- Ed25519 public key that signs its bundles
            badge_key_id INTEGER,         -- issuer key id the hub assigned
            created_at TEXT NOT NULL,
            created_by TEXT,
            enrolled_at TEXT,
            revoked_at TEXT,
            revoked_by TEXT,
            last_seen TEXT,
            last_push TEXT,
            last_pull TEXT,
            records_received INTEGER NOT NULL DEFAULT 0,
            clock_skew_ms INTEGER,
            restamped INTEGER NOT NULL DEFAULT 0,
            app_version TEXT
        );
        -- One change stream per (node, replica): a restored or cloned laptop gets a new replica.
        CREATE TABLE streams (
            node_id TEXT NOT NULL,
            replica TEXT NOT NULL,
            high_water INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            PRIMARY KEY (node_id, replica)
        );
        -- Received batches, so a replay gets the same acknowledgement back.
        CREATE TABLE batches (
            node_id TEXT NOT NULL,
            replica TEXT NOT NULL,
            from_seq INTEGER NOT NULL,
            to_seq INTEGER NOT NULL,
            batch_id TEXT NOT NULL,
            digest TEXT NOT NULL,
            first_key TEXT,
            ack TEXT NOT NULL,
            source TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (node_id, replica, from_seq)
        );
        -- Change ids of row-wise changes already merged (immutable records dedup by their own id).
        CREATE TABLE received_changes (change_id TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE conflicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            field TEXT NOT NULL,
            kept_value TEXT,
            kept_hlc TEXT,
            lost_value TEXT,
            lost_hlc TEXT,
            node_id TEXT,
            change_id TEXT,
            created_at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by TEXT,
            resolution TEXT
        );
        CREATE INDEX conflicts_open ON conflicts(resolved_at, id);
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            node_id TEXT,
            seq INTEGER,
            change_id TEXT,
            entity TEXT,
            record_id TEXT,
            change TEXT NOT NULL,         -- the change as received, JSON
            reason TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            last_tried_at TEXT,
            resolved_at TEXT,
            resolved_by TEXT,
            resolution TEXT
        );
        CREATE INDEX quarantine_open ON quarantine(resolved_at, id);
        -- What pulls read: one row per (record, scope), renumbered on every change.
        -- scope '' reaches every node; a town code reaches that town's nodes.
        CREATE TABLE hub_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            scope TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'evict')),
            at TEXT NOT NULL,
            UNIQUE (entity, record_id, scope)
        );
        CREATE INDEX hub_log_scope ON hub_log(scope, seq);
        CREATE INDEX hub_log_gone ON hub_log(op, at);
        -- Deleted ids are kept forever (failure case 4).
        CREATE TABLE tombstones (
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            hlc TEXT,
            deleted_at TEXT NOT NULL,
            deleted_by TEXT,
            PRIMARY KEY (entity, record_id)
        );
        -- Who did what on the hub's review queues and nodes.
        CREATE TABLE sync_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT
        );
        """
    )
    db["meta"].upsert({"key": "hub_epoch", "value": secrets.token_hex(6)}, pk="key")


@migrations()
def m002_node_origins(db: Database) -> None:
    """Which laptop may speak for which database id (origin): a node cannot pass its records off
    as another's. A laptop gets a new origin when its database turns out to be a copy."""
    db.executescript(
        """
        CREATE TABLE node_origins (
            origin TEXT PRIMARY KEY,
            node_id TEXT NOT NULL,
            since TEXT NOT NULL
        );
        CREATE INDEX node_origins_node ON node_origins(node_id);
        INSERT INTO node_origins (origin, node_id, since)
            SELECT origin, id, COALESCE(enrolled_at, created_at) FROM nodes
            WHERE origin IS NOT NULL AND revoked_at IS NULL;
        """
    )


@migrations()
def m003_quarantine_code(db: Database) -> None:
    """Why the policy refused a change (sync/downstream/policy.py: not_your_town, move_request, ...); NULL for a
    change that failed otherwise (validation, an unknown kind)."""
    db.execute("ALTER TABLE quarantine ADD COLUMN code TEXT")


@migrations()
def m004_clock_syncs(db: Database) -> None:
    """Counts the syncs that measured the hub's clock, so a server running beside `fieldsync sync`
    sees that its clock offset is new and takes it (store/hlc.py, HLC.follow)."""
    db.execute("ALTER TABLE sync_state ADD COLUMN clock_syncs INTEGER NOT NULL DEFAULT 0")


@migrations()
def m005_child_hubs(db: Database) -> None:
    """A node is a town laptop or a child hub (a county under a city, a city under a province,
    decision 0130). For a child hub, `town` holds the unit it serves."""
    db.execute("ALTER TABLE nodes ADD COLUMN kind TEXT NOT NULL DEFAULT 'laptop'")


@migrations()
def m006_quarantine_codes_and_pulls(db: Database) -> None:
    """Why a change is held, as the params of its code (sync/quarantine.py words them in the reader's
    language; `reason` keeps the technical detail), and which rows a pull held: a laptop or child
    hub keeps what it could not apply from the hub above, instead of skipping it (issue 16)."""
    db.executescript(
        """
        ALTER TABLE quarantine ADD COLUMN params TEXT;
        ALTER TABLE quarantine ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX quarantine_pulled ON quarantine(pulled, resolved_at, id);
        """
    )


@migrations()
def m007_people_tail(db: Database) -> None:
    """A pushed check-in may name a person the hub holds by 8 characters of the id's random part
    (sync/refs.py, decision 0270): the hub finds them by this index."""
    db.execute("CREATE INDEX IF NOT EXISTS people_tail ON people(substr(id, 11, 8))")
