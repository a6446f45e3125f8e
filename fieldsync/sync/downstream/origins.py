"""Which enrolled laptop may speak for which database id (origin).

Records carry the id of the database that made them (a check-in's `node`, a
person's `origin`). The hub lets a laptop write only under its own ids: the one
it enrolled with, and any new one it took after its database turned out to be a
copy (failure case 1). An id another enrolled laptop holds is refused; one held
by a revoked laptop passes on (the same laptop, enrolled again).
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.errors import Conflict
from fieldsync.i18n import _
from fieldsync.store.clock import utc_now


def claim(db: Database, node_id: str, origin: str) -> None:
    holder = db.execute("SELECT o.node_id, n.name, n.revoked_at FROM node_origins o"
                        " LEFT JOIN nodes n ON n.id = o.node_id WHERE o.origin = ?", [origin]).fetchone()
    if holder and holder[0] == node_id:
        return
    if holder and not holder[2]:
        raise Conflict(_("This laptop's database id (origin) belongs to the enrolled laptop %(name)s. Revoke that "
                         "enrollment first (a copied laptop needs its own database).", name=holder[1]),
                       code="origin_taken")
    db.execute("INSERT OR REPLACE INTO node_origins (origin, node_id, since) VALUES (?, ?, ?)",
               [origin, node_id, utc_now()])


def of(db: Database, node_id: str) -> frozenset[str]:
    return frozenset(r[0] for r in db.execute("SELECT origin FROM node_origins WHERE node_id = ?", [node_id]))
