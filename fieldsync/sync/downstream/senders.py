"""Hub: who sent a batch, as the hub's own tables know it (never as the request says).

A town laptop owns its town; a child hub (a county under its city, a city under its province,
decision 0130) owns every town of its unit in this hub's gazetteer. The policy (policy.py)
asks only `towns` and `speaks_for`, so one rule serves both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync.sync import chain
from fieldsync.sync.downstream import origins


@dataclass
class Sender:
    node_id: str
    name: str
    origin: str | None
    origins: frozenset[str] = frozenset()   # the database ids it may write under (sync/downstream/origins.py)
    town: str | None = None                 # what it was enrolled for: a town, or a child hub's unit
    towns: frozenset[str] = frozenset()     # the towns whose records it may change (sync/downstream/policy.py)
    hub: bool = False                       # a child hub: it passes on its laptops' records
    others: frozenset[str] = frozenset()    # a child hub: database ids other nodes of this hub hold

    def speaks_for(self, origin: str | None) -> bool:
        """A laptop writes under its own database ids only; a child hub under its laptops' too,
        which this hub does not know: any id no other node here holds."""
        return origin in self.origins or (self.hub and bool(origin) and origin not in self.others)


def sender_of(db: Database, node_id: str | None) -> Sender:
    """An enrolled laptop or child hub as the merge and its policy see it, from the hub's own tables."""
    row = db.execute("SELECT id, name, origin, town, kind FROM nodes WHERE id = ?", [node_id]).fetchone()
    if row is None:
        return Sender(node_id or "", node_id or "unknown", None)
    node_id, name, origin, town, kind = row
    if kind != "hub":
        return Sender(node_id, name, origin, origins.of(db, node_id), town=town, towns=frozenset({town}))
    others = frozenset(r[0] for r in db.execute("SELECT origin FROM node_origins WHERE node_id != ?", [node_id]))
    return Sender(node_id, name, origin, origins.of(db, node_id), town=town, towns=chain.towns_of(db, town),
                  hub=True, others=others)
