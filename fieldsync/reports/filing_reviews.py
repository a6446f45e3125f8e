"""The parent's decision on a child unit's filing (decision 0150), as DHIS2's data approval:
accept the latest version, or return it with a reason; an accepted period can be reopened.

One decision stands per unit and period (`filing_reviews`, id 'unit:period'). The parent
publishes it to the child's unit (sync entity `filing_reviews`, scoped by `town` = the child's
unit); the child hub passes it on to its laptops with their pull, where an accepted period locks
the unit's activities of the year (records/period_locks.py).
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.reports import filings
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import entities, hublog

ENTITY = "filing_reviews"
STATES = ("accepted", "returned", "reopened")
MAX_REASON = 500


def decide(store: Store, unit: str, year, state: str, *, reason: str | None = None, actor: str | None) -> dict:
    """Accept or return a child unit's latest filing of the year, or reopen an accepted year."""
    period = filings.period_of(year)
    reason = (reason or "").strip() or None
    if state not in STATES:
        raise ValidationFailed(_("A decision is one of %(states)s.", states=", ".join(STATES)),
                               fields={"state": [_("Unknown.")]})
    if state == "returned" and not reason:
        raise ValidationFailed(_("Say why the filing is returned."), fields={"reason": [_("Required.")]})
    if reason and len(reason) > MAX_REASON:
        raise ValidationFailed(_("At most %(n)s characters.", n=MAX_REASON), fields={"reason": [_("Too long.")]})

    def work(db: Database) -> dict:
        latest = filings.versions(db, unit, period)
        if not latest or unit == filings.own_unit(db)["code"]:
            raise NotFound(_("No filing of %(unit)s for %(period)s has reached this hub.", unit=unit, period=period),
                           code="filing_not_found")
        current = filings.review_of(db, unit, period)
        if state == "reopened" and (current or {}).get("state") != "accepted":
            raise Conflict(code="not_accepted")
        row = {"id": f"{unit}:{period}", "town": unit, "period": period, "version": latest[0]["version"],
               "state": state, "reason": reason, "decided_by": actor, "decided_at": utc_now(),
               "hlc": store.hlc.now()}
        db["filing_reviews"].upsert(row, pk="id")
        hublog.publish(db, entities.get(ENTITY), row["id"])   # the child's next pull takes it
        return row

    return store.write(work)
