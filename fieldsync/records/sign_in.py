"""Sign-in throttle: after a few wrong passwords, a user name or a client address waits.

Failures are counted per key ("user:<name>" and "address:<ip>") in SQLite, not
in memory: every waitress thread sees the same count, a restart does not wipe
it, and a hub run as several processes later would share it too. Each failure
past the limit doubles the wait, up to a quarter of an hour; a quiet quarter of
an hour forgets the count. A success clears its user name's count but not its
address's, or one good account would let an address guess at every other one.
"""

from __future__ import annotations

import ipaddress
import time

from sqlite_utils import Database

from fieldsync.store import Store

USER_LIMIT = 5          # wrong passwords for one name before it waits
ADDRESS_LIMIT = 10      # from one address (the office laptop's own desk is one address for all)
FIRST_WAIT = 30         # seconds, doubled with each failure past the limit
LONGEST_WAIT = 15 * 60
FORGET_AFTER = 15 * 60  # a key with no failure for this long starts again from zero


def migrate(db: Database) -> None:
    db.execute("CREATE TABLE sign_in_failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
               " last_at REAL NOT NULL)")


def keys(username: str, address: str) -> dict[str, int]:
    """The throttle keys of an attempt and their limits. IPv6 counts by /64: one phone holds a whole one."""
    try:
        ip = ipaddress.ip_address(address)
        if ip.version == 6 and not ip.is_loopback:
            address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        pass
    return {"user:" + (username or "").strip().lower(): USER_LIMIT, "address:" + address: ADDRESS_LIMIT}


def _wait(failures: int, limit: int) -> float:
    return 0 if failures < limit else min(FIRST_WAIT * 2 ** (failures - limit), LONGEST_WAIT)


def seconds_to_wait(store: Store, attempt: dict[str, int]) -> int:
    """How long this attempt must wait before a password is even looked at (0: go ahead)."""
    now = time.time()
    rows = store.query("SELECT key, failures, last_at FROM sign_in_failures WHERE key IN (?, ?)", list(attempt))
    left = [row["last_at"] + _wait(row["failures"], attempt[row["key"]]) - now for row in rows]
    return max([0, *(int(s) + 1 for s in left if s > 0)])


def failed(store: Store, attempt: dict[str, int]) -> None:
    now = time.time()

    def count(db: Database) -> None:
        for key in attempt:
            db.execute("INSERT INTO sign_in_failures (key, failures, last_at) VALUES (?, 1, ?)"
                       " ON CONFLICT (key) DO UPDATE SET last_at = excluded.last_at,"
                       " failures = CASE WHEN excluded.last_at - last_at > ? THEN 1 ELSE failures + 1 END",
                       [key, now, FORGET_AFTER])

    store.write(count)


def succeeded(store: Store, attempt: dict[str, int]) -> None:
    user_keys = [key for key in attempt if key.startswith("user:")]
    store.write(lambda db: db.execute("DELETE FROM sign_in_failures WHERE key = ?", user_keys))
