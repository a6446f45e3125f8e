"""Web accounts: admin, staff, trainer (kiosk only). Passwords hashed with scrypt.

Each account carries a session epoch, signed into its cookies at sign-in: signing
out, a new password or disabling the account moves it on, and every cookie
issued before stops working at once, wherever it was copied to. An account may
be given units (town, county or city codes): it then sees and changes only the
people and sessions of those units (records/scope.py).
"""

from __future__ import annotations

import functools
import json
import re
import threading

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations
from werkzeug.security import check_password_hash, generate_password_hash

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.i18n import _
from fieldsync.store import Store, new_id
from fieldsync.store.clock import utc_now

migrations = Migrations("users")
COLUMNS = "id, username, display_name, role, created_at, disabled_at, session_epoch, units"
UNIT_KINDS = ("city", "county", "town")


@migrations()
def m001_session_epoch_and_units(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE users ADD COLUMN units TEXT;   -- JSON list of place codes; NULL: every unit
        """
    )


@migrations()
def m002_sign_in_failures(db: Database) -> None:
    from fieldsync.records import sign_in

    sign_in.migrate(db)

ROLES = ("admin", "staff", "trainer")
# What each role may do; a role includes the ones after it.
RANK = {"admin": 3, "staff": 2, "trainer": 1}
# Who changes the roster. Staff register (注册), modify (修改) and promote (晋级) everywhere, and a
# town office cancels (注销) and restores its own people. On the hub a cancellation, its undoing and a
# duplicate merge reach every town's laptops at their next sync, so there they take an admin.
HUB_ADMIN_ACTS = frozenset({"cancel", "restore", "merge"})


def roster_role(act: str, *, hub: bool) -> str:
    """The least role that may do `act` to a person (register, modify, promote, cancel, restore, merge)."""
    return "admin" if hub and act in HUB_ADMIN_ACTS else "staff"


def sees_full_numbers(kind: str | None, role: str | None) -> bool:
    """Whether a caller is shown whole phone numbers (and may search by their last digits): staff and
    admins signed in. Trainers and stations see them masked, and search by the whole number only."""
    return kind == "user" and role in ("admin", "staff")


def may(role: str | None, needed: str) -> bool:
    return RANK.get(role or "", 0) >= RANK[needed]


def create(store: Store, username: str, password: str, role: str, display_name: str | None = None,
           units: list[str] | None = None) -> dict:
    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,40}", username):
        raise ValidationFailed(_("Usernames are 2-40 letters, digits, dots, dashes or underscores."),
                               fields={"username": [_("Not a valid username.")]})
    if role not in ROLES:
        raise ValidationFailed(_("Role must be one of %(roles)s.", roles=", ".join(ROLES)),
                               fields={"role": [_("Unknown role.")]})
    if len(password or "") < 8:
        raise ValidationFailed(_("Passwords need at least 8 characters."), fields={"password": [_("Too short.")]})
    if store.query_one("SELECT 1 FROM users WHERE username = ?", [username]):
        raise Conflict(_("User %(username)s already exists.", username=username), code="user_exists")
    row = {"id": new_id(), "username": username, "display_name": display_name or username,
           "password_hash": generate_password_hash(password), "role": role, "created_at": utc_now(),
           "units": _units_json(store, units)}
    store.write(lambda db: db["users"].insert(row))
    return _account({k: v for k, v in row.items() if k != "password_hash"})


# scrypt as werkzeug sets it (N=32768, r=8) takes 32 MB for each password checked: ten sign-ins at
# once would hold 320 MB of a town laptop. They take turns (issue 17: the serving process stays
# under 100 MB through a day), ~0.1 s each.
_ONE_HASH_AT_A_TIME = threading.Lock()


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("no account has this password")


def authenticate(store: Store, username: str, password: str) -> dict | None:
    """The account if the password is right. An unknown or disabled name costs the same hash as a
    wrong password, so the time of the answer does not tell which names exist."""
    row = store.query_one(f"SELECT {COLUMNS}, password_hash FROM users WHERE username = ? AND disabled_at IS NULL",
                          [(username or "").strip()])
    with _ONE_HASH_AT_A_TIME:
        right = check_password_hash(row["password_hash"] if row else _dummy_hash(), password or "")
    if row and right:
        return _account({k: v for k, v in row.items() if k != "password_hash"})
    return None


def get(store: Store, user_id: str) -> dict | None:
    row = store.query_one(f"SELECT {COLUMNS} FROM users WHERE id = ? AND disabled_at IS NULL", [user_id])
    return _account(row) if row else None


def listing(store: Store) -> list[dict]:
    return [_account(row) for row in store.query(f"SELECT {COLUMNS} FROM users ORDER BY username")]


def _account(row: dict) -> dict:
    return {**row, "units": json.loads(row["units"]) if row.get("units") else []}


def _units_json(store: Store, units: list[str] | None) -> str | None:
    """The units as stored, each checked to be a city, county or town of the gazetteer."""
    codes = sorted({code.strip() for code in units or [] if code.strip()})
    for code in codes:
        place = store.query_one("SELECT kind FROM places WHERE code = ?", [code])
        if place is None or place["kind"] not in UNIT_KINDS:
            raise ValidationFailed(_("%(code)s is not a town, county or city of the gazetteer.", code=code),
                                   fields={"units": [_("%(code)s: not a town, county or city.", code=code)]})
    return json.dumps(codes) if codes else None


def set_units(store: Store, username: str, units: list[str] | None) -> list[str]:
    """Give an account its units (none: every unit). Its open sessions take the new units at their next request."""
    _existing(store, username)
    stored = _units_json(store, units)
    store.write(lambda db: db.execute("UPDATE users SET units = ? WHERE username = ?", [stored, username]))
    return json.loads(stored) if stored else []


def end_sessions(store: Store, user_id: str) -> None:
    """Sign the account out everywhere: every cookie issued before now stops working."""
    store.write(lambda db: db.execute("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?",
                                      [user_id]))


def _existing(store: Store, username: str) -> dict:
    row = store.query_one("SELECT role, disabled_at FROM users WHERE username = ?", [username])
    if row is None:
        raise ValidationFailed(_("No user %(username)s.", username=username), fields={"username": [_("Unknown user.")]})
    return row


def set_password(store: Store, username: str, password: str) -> None:
    """A new password; every session signed in with the old one ends."""
    if len(password or "") < 8:
        raise ValidationFailed(_("Passwords need at least 8 characters."), fields={"password": [_("Too short.")]})
    _existing(store, username)
    store.write(lambda db: db.execute("UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1"
                                      " WHERE username = ?", [generate_password_hash(password), username]))


def set_disabled(store: Store, username: str, disabled: bool, *, by: str | None = None) -> None:
    """Disable (or enable again) an account; its open sessions stop working at once.

    Nobody disables their own account, and the last active admin stays: either
    would lock the office out of its users page.
    """
    row = _existing(store, username)
    if disabled and username == by:
        raise Conflict(code="own_account")
    admins = store.query_one("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL")
    if disabled and row["role"] == "admin" and row["disabled_at"] is None and admins["n"] <= 1:
        raise Conflict(code="last_admin")
    store.write(lambda db: db.execute("UPDATE users SET disabled_at = ?, session_epoch = session_epoch + 1"
                                      " WHERE username = ?", [utc_now() if disabled else None, username]))


def allowed(user: dict | None, role: str) -> bool:
    return bool(user) and RANK[user["role"]] >= RANK[role]
