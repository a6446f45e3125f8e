"""Web accounts: admin, staff, trainer (kiosk only). Passwords hashed with scrypt."""

from __future__ import annotations

import re

from werkzeug.security import check_password_hash, generate_password_hash

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.store import Store, new_id
from fieldsync.store.outbox import utc_now

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


def may(role: str | None, needed: str) -> bool:
    return RANK.get(role or "", 0) >= RANK[needed]


def create(store: Store, username: str, password: str, role: str, display_name: str | None = None) -> dict:
    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,40}", username):
        raise ValidationFailed("Usernames are 2-40 letters, digits, dots, dashes or underscores.",
                               fields={"username": ["Not a valid username."]})
    if role not in ROLES:
        raise ValidationFailed(f"Role must be one of {', '.join(ROLES)}.", fields={"role": ["Unknown role."]})
    if len(password or "") < 8:
        raise ValidationFailed("Passwords need at least 8 characters.",
                               fields={"password": ["Too short."]})
    if store.query_one("SELECT 1 FROM users WHERE username = ?", [username]):
        raise Conflict(f"User {username} already exists.", code="user_exists")
    row = {"id": new_id(), "username": username, "display_name": display_name or username,
           "password_hash": generate_password_hash(password), "role": role, "created_at": utc_now()}
    store.write(lambda db: db["users"].insert(row))
    return {k: v for k, v in row.items() if k != "password_hash"}


def authenticate(store: Store, username: str, password: str) -> dict | None:
    row = store.query_one("SELECT * FROM users WHERE username = ? AND disabled_at IS NULL",
                          [(username or "").strip()])
    if row and check_password_hash(row["password_hash"], password or ""):
        return {k: v for k, v in row.items() if k != "password_hash"}
    return None


def get(store: Store, user_id: str) -> dict | None:
    return store.query_one("SELECT id, username, display_name, role, created_at, disabled_at"
                           " FROM users WHERE id = ? AND disabled_at IS NULL", [user_id])


def listing(store: Store) -> list[dict]:
    return store.query("SELECT id, username, display_name, role, created_at, disabled_at"
                       " FROM users ORDER BY username")


def set_password(store: Store, username: str, password: str) -> None:
    if len(password or "") < 8:
        raise ValidationFailed("Passwords need at least 8 characters.", fields={"password": ["Too short."]})
    if not store.query_one("SELECT 1 FROM users WHERE username = ?", [username]):
        raise ValidationFailed(f"No user {username}.", fields={"username": ["Unknown user."]})
    store.write(lambda db: db.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                                      [generate_password_hash(password), username]))


def set_disabled(store: Store, username: str, disabled: bool, *, by: str | None = None) -> None:
    """Disable (or enable again) an account; its open sessions stop working at once.

    Nobody disables their own account, and the last active admin stays: either
    would lock the office out of its users page.
    """
    row = store.query_one("SELECT role, disabled_at FROM users WHERE username = ?", [username])
    if row is None:
        raise ValidationFailed(f"No user {username}.", fields={"username": ["Unknown user."]})
    if disabled and username == by:
        raise Conflict("You cannot disable your own account.", code="own_account")
    admins = store.query_one("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL")
    if disabled and row["role"] == "admin" and row["disabled_at"] is None and admins["n"] <= 1:
        raise Conflict("This is the last active admin; make another admin first.", code="last_admin")
    store.write(lambda db: db.execute("UPDATE users SET disabled_at = ? WHERE username = ?",
                                      [utc_now() if disabled else None, username]))


def allowed(user: dict | None, role: str) -> bool:
    return bool(user) and RANK[user["role"]] >= RANK[role]
