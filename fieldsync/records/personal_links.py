"""An instructor's personal link to their own page on the hub (the 小程序/website of issue 15).

The link is /me/<token>: base32 of (person id 16 bytes | badge generation 2 | link generation 2)
and a MAC of 15 bytes, HMAC-SHA256 with a key only this hub holds (personal_link.key in its
instance folder) over "FSME1:" + the hub's database id + those 20 bytes. Only the hub ever reads
a link, so a key shared with nobody is the right tool, and it keeps the QR small
(docs/decisions/0250-the-instructors-own-page.md). A link opens the page only while

- the MAC is this hub's (a changed person id, a guessed one, another hub's link: refused);
- the person's links were not revoked and the link's generation is the current one (a staff
  member issuing a new link retires every older one);
- the badge generation is the person's current one and not revoked (reprinting the badge
  retires the link printed on the old card);
- the person is active.

Every refusal is the same `personal_link_invalid`, so a prober learns nothing of why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from sqlite_utils import Database
from ulid import ULID

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.records import people
from fieldsync.records.pii import write_secret
from fieldsync.store import Store
from fieldsync.store.clock import utc_now

CONTEXT = b"FSME1:"
PAYLOAD_LEN = 20
MAC_LEN = 15
KEY_FILE = "personal_link.key"


@dataclass(frozen=True)
class Link:
    person_id: str
    badge_generation: int
    generation: int


def _key(store: Store) -> bytes:
    return write_secret(store.path.parent / KEY_FILE)


def _mac(store: Store, payload: bytes) -> bytes:
    message = CONTEXT + (store.node_id or "").encode() + b":" + payload
    return hmac.new(_key(store), message, hashlib.sha256).digest()[:MAC_LEN]


def _token(store: Store, link: Link) -> str:
    payload = (ULID.from_str(link.person_id).bytes + link.badge_generation.to_bytes(2, "big")
               + link.generation.to_bytes(2, "big"))
    return base64.b32encode(payload + _mac(store, payload)).decode().rstrip("=")


def _refused() -> NotFound:
    return NotFound(code="personal_link_invalid")


def _read(store: Store, token: str) -> Link:
    text = (token or "").strip().upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, base64.binascii.Error):
        raise _refused() from None
    # One canonical spelling only, as for badges: spare bits must not make a second valid link.
    if len(raw) != PAYLOAD_LEN + MAC_LEN or base64.b32encode(raw).decode().rstrip("=") != text:
        raise _refused()
    payload, mac = raw[:PAYLOAD_LEN], raw[PAYLOAD_LEN:]
    if not hmac.compare_digest(mac, _mac(store, payload)):
        raise _refused()
    return Link(str(ULID.from_bytes(payload[:16])), int.from_bytes(payload[16:18], "big"),
                int.from_bytes(payload[18:20], "big"))


def person_of(store: Store, token: str) -> dict:
    """The person a link opens the page of, or `personal_link_invalid` (404)."""
    link = _read(store, token)
    row = store.query_one(
        "SELECT l.generation, l.revoked_at, p.badge_generation, p.status, r.min_generation"
        " FROM personal_links l JOIN people p ON p.id = l.person_id"
        " LEFT JOIN badge_revocations r ON r.person_id = l.person_id WHERE l.person_id = ?", [link.person_id])
    if (row is None or row["revoked_at"] or row["generation"] != link.generation or row["status"] != "active"
            or int(row["badge_generation"]) != link.badge_generation
            or link.badge_generation < (row["min_generation"] or 0)):
        raise _refused()
    return people.get(store, link.person_id)


def current(store: Store, person: dict, *, actor: str | None = None, create: bool = True) -> str | None:
    """The person's link as of their badge today: made on first use (unless not `create`), None
    once revoked."""
    row = store.query_one("SELECT generation, revoked_at FROM personal_links WHERE person_id = ?", [person["id"]])
    if row is None:
        return issue(store, person["id"], actor=actor) if create else None
    if row["revoked_at"]:
        return None
    return _token(store, Link(person["id"], int(person["badge_generation"]), row["generation"]))


def issue(store: Store, person_id: str, *, actor: str | None = None) -> str:
    """A new link for the person; every link given before stops working."""
    person = people.get(store, person_id)
    if person["status"] != "active":
        raise Conflict(_("%(name)s is cancelled; no personal link is given.", name=person["name"]),
                       code="person_cancelled")

    def work(db: Database) -> int:
        db.execute("INSERT INTO personal_links (person_id, generation, revoked_at, issued_at, actor)"
                   " VALUES (?, 1, NULL, ?, ?) ON CONFLICT(person_id) DO UPDATE SET"
                   " generation = generation + 1, revoked_at = NULL, issued_at = excluded.issued_at,"
                   " actor = excluded.actor", [person_id, utc_now(), actor])
        return db.execute("SELECT generation FROM personal_links WHERE person_id = ?", [person_id]).fetchone()[0]

    generation = store.write(work)
    return _token(store, Link(person_id, int(person["badge_generation"]), generation))


def revoke(store: Store, person_id: str, *, actor: str | None = None) -> None:
    """Every link the person holds stops working; issue() gives a new one."""
    people.get(store, person_id)
    store.write(lambda db: db.execute(
        "INSERT INTO personal_links (person_id, generation, revoked_at, issued_at, actor) VALUES (?, 0, ?, ?, ?)"
        " ON CONFLICT(person_id) DO UPDATE SET revoked_at = excluded.revoked_at, actor = excluded.actor",
        [person_id, utc_now(), utc_now(), actor]))


def state(store: Store, person_id: str) -> dict | None:
    """The person's link row (generation, revoked_at, issued_at, actor), None if never given."""
    return store.query_one("SELECT * FROM personal_links WHERE person_id = ?", [person_id])
