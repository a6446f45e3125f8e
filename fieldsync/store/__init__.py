"""SQLite storage: connections with our pragmas, the group-commit writer, migrations, HLC, outbox."""

from fieldsync.store.db import Store, connect, new_id
from fieldsync.store.hlc import HLC

__all__ = ["HLC", "Store", "connect", "new_id"]
