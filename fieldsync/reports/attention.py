"""What waits for a person at the hub: open conflicts, quarantined changes, double scans to review,
town laptops gone quiet.

The dashboard's "needs attention" strip; each count is what the page it links to lists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from fieldsync.sync.downstream import doubles

QUIET_AFTER = timedelta(days=3)


def _stamp(moment: datetime) -> str:
    """The stored timestamp format (store.outbox.utc_now), so stamps compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def needs_attention(db: Database, now: datetime | None = None) -> dict:
    """Counts for the whole hub, but double scans: those of the account's towns, as their list shows
    them (sync/downstream/doubles.py). A laptop is quiet when it is enrolled, not revoked, and neither
    synced nor enrolled in the last three days (one that never synced since enrolling counts too)."""
    cutoff = _stamp((now or datetime.now(UTC)) - QUIET_AFTER)
    row = db.execute(
        "SELECT (SELECT COUNT(*) FROM conflicts WHERE resolved_at IS NULL),"
        " (SELECT COUNT(*) FROM quarantine WHERE resolved_at IS NULL),"
        " (SELECT COUNT(*) FROM nodes WHERE enrolled_at IS NOT NULL AND revoked_at IS NULL"
        "  AND COALESCE(last_seen, enrolled_at) < ?)", [cutoff]).fetchone()
    return {"conflicts": row[0], "quarantine": row[1], "doubles": doubles.open_count(db), "quiet_nodes": row[2],
            "quiet_days": QUIET_AFTER.days}
