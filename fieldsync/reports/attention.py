"""What waits for a person at the hub: open conflicts, quarantined changes, double scans to review,
town laptops gone quiet.

The dashboard's "needs attention" strip; each count is what the page it links to lists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from fieldsync.store import clock
from fieldsync.sync.downstream import doubles, review

QUIET_AFTER = timedelta(days=3)


def needs_attention(db: Database, now: datetime | None = None) -> dict:
    """Conflicts, quarantined changes and double scans of the account's towns, as their lists show
    them (sync/downstream/review.py, sync/downstream/doubles.py); quiet laptops of the whole hub. A laptop is quiet when it is enrolled, not revoked, and neither
    synced nor enrolled in the last three days (one that never synced since enrolling counts too)."""
    cutoff = clock.utc_text((now or clock.now()) - QUIET_AFTER)
    conflicts, conflict_params = review.in_scope(review.CONFLICT_TOWN, "c")
    quarantined, quarantine_params = review.in_scope(review.QUARANTINE_TOWN, "q")
    row = db.execute(
        f"SELECT (SELECT COUNT(*) FROM conflicts c WHERE resolved_at IS NULL AND {conflicts}),"
        f" (SELECT COUNT(*) FROM quarantine q WHERE resolved_at IS NULL AND {quarantined}),"
        " (SELECT COUNT(*) FROM nodes WHERE enrolled_at IS NOT NULL AND revoked_at IS NULL"
        "  AND COALESCE(last_seen, enrolled_at) < ?)", [*conflict_params, *quarantine_params, cutoff]).fetchone()
    return {"conflicts": row[0], "quarantine": row[1], "doubles": doubles.open_count(db), "quiet_nodes": row[2],
            "quiet_days": QUIET_AFTER.days}
