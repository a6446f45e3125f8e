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


def allowed(user: dict | None, role: str) -> bool:
    return bool(user) and RANK[user["role"]] >= RANK[role]
