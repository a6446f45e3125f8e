"""QR badges: Ed25519-signed, no personal data, verified offline (DESIGN §5).

A badge reads "FS1:" + base32(person id 16 bytes | issuer key id 2 bytes |
generation 2 bytes | signature 64 bytes): upper-case letters, digits and a
colon, so the QR uses alphanumeric mode and stays at version 7 or below.
Revoking a lost card raises the person's minimum generation; the reprint
carries the new generation and keeps working (failure case 11).

A good signature is not enough: a laptop's key is trusted only for the people of
the town the hub certified it for, and for the people that laptop registered
(walk-ins from elsewhere); the hub's own key and this laptop's own key for
everyone (DESIGN §8, decision 0065). `vouches` is that rule.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import qrcode
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlite_utils import Database
from ulid import ULID

from fieldsync.records import mutable
from fieldsync.records.pii import write_secret
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change

PREFIX = "FS1:"
PAYLOAD_LEN = 20
SIG_LEN = 64
# Key ids 1-32767 are assigned by the hub; a laptop not yet enrolled signs
# with a key id it draws from the upper half.
LOCAL_KEY_IDS = (0x8000, 0xFFFF)


@dataclass(frozen=True)
class BadgeCheck:
    ok: bool
    # "ok", "malformed", "unknown_key", "bad_signature", "key_revoked", "revoked",
    # "uncertified_key", "key_not_for_town"
    reason: str
    person_id: str | None = None
    key_id: int | None = None
    generation: int | None = None
    public_key: str | None = None   # the key the signature was checked with


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def public_b64(private: Ed25519PrivateKey) -> str:
    """A public key as it is stored and sent: base64 of its 32 raw bytes."""
    return base64.b64encode(private.public_key().public_bytes_raw()).decode()


def _key_file(store: Store) -> Path:
    return store.path.parent / "badge_signing.key"


def signing_key(store: Store) -> tuple[int, Ed25519PrivateKey]:
    """This laptop's issuer key: created on first use, public half registered locally."""
    raw = write_secret(_key_file(store))
    private = Ed25519PrivateKey.from_private_bytes(raw)
    key_id = store.get_meta("badge_key_id")
    if key_id is None:
        key_id = str(secrets.randbelow(LOCAL_KEY_IDS[1] - LOCAL_KEY_IDS[0]) + LOCAL_KEY_IDS[0])
        public = public_b64(private)

        def work(db: Database) -> None:
            db["badge_keys"].upsert({"key_id": int(key_id), "public_key": public,
                                     "owner": store.node_id, "created_at": utc_now()}, pk="key_id")
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('badge_key_id', ?)", [key_id])

        store.write(work)
    return int(key_id), private


def issue(store: Store, person: dict) -> str:
    """The badge text for a person's current generation."""
    key_id, private = signing_key(store)
    payload = (ULID.from_str(person["id"]).bytes + key_id.to_bytes(2, "big")
               + int(person["badge_generation"]).to_bytes(2, "big"))
    return PREFIX + _b32(payload + private.sign(PREFIX.encode() + payload))


@functools.lru_cache(maxsize=4096)
def parse(code: str) -> tuple[bytes, bytes] | None:
    # Cached: a badge is scanned in and later out, and base32 in pure Python is not cheap.
    text = (code or "").strip().upper()
    if not text.startswith(PREFIX):
        return None
    try:
        raw = _unb32(text[len(PREFIX):])
    except (ValueError, base64.binascii.Error):
        return None
    # Only the one canonical spelling: base32's spare bits in the last
    # character would otherwise let altered text pass as the same badge.
    if len(raw) != PAYLOAD_LEN + SIG_LEN or _b32(raw) != text[len(PREFIX):]:
        return None
    return raw[:PAYLOAD_LEN], raw[PAYLOAD_LEN:]


def looks_like_badge(code: str) -> bool:
    return (code or "").strip().upper().startswith(PREFIX)


@functools.lru_cache(maxsize=1024)
def _public_key(encoded: str) -> Ed25519PublicKey:
    # Keyed by the stored key text, so a replaced key is never served stale; whether
    # the key is revoked is still read from the database on every scan.
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded))


@functools.lru_cache(maxsize=4096)
def _signed_by(public_key: str, payload: bytes, signature: bytes) -> bool:
    """Whether the key signed the payload. The same three values always give the same
    answer, so a badge scanned again skips the curve arithmetic."""
    try:
        _public_key(public_key).verify(signature, PREFIX.encode() + payload)
    except InvalidSignature:
        return False
    return True


def verifies(public_key: str | None, signature: bytes, message: bytes) -> bool:
    """Whether the key signed this message: for the hub's other signed texts (certificates of service)."""
    if not public_key:
        return False
    try:
        _public_key(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


KEY_SQL = "SELECT public_key, revoked_at FROM badge_keys WHERE key_id = ?"


# -- which key may sign whose badge (decision 0065) ------------------------------------
CERTIFICATE_CONTEXT = "FSKEY1:"   # never a badge's "FS1:": one hub key signs both kinds
HUB_KEY_META = "hub_badge_key"    # the hub's public key, learned at enrollment


def canonical_origins(origins) -> str:
    """The certified list of database ids (origins) a laptop registers people under, as stored."""
    return json.dumps(sorted(set(origins)), separators=(",", ":"))


def _certified_text(key_id: int, public_key: str, town: str, origins: str) -> bytes:
    return f"{CERTIFICATE_CONTEXT}{key_id}:{public_key}:{town}:{origins}".encode()


def certify(hub_private: Ed25519PrivateKey, key_id: int, public_key: str, town: str, origins: str) -> str:
    """The hub's certificate that this key belongs to a laptop of `town` registering under `origins`."""
    return base64.b64encode(hub_private.sign(_certified_text(key_id, public_key, town, origins))).decode()


@functools.lru_cache(maxsize=1024)
def certified(hub_key: str | None, key_id: int, public_key: str, town: str | None, origins: str | None,
              certificate: str | None) -> bool:
    """Whether the certificate is the hub's signature over this key, town and origins."""
    if not (hub_key and town and origins and certificate):
        return False
    try:
        _public_key(hub_key).verify(base64.b64decode(certificate, validate=True),
                                    _certified_text(key_id, public_key, town, origins))
    except (InvalidSignature, ValueError):
        return False
    return True


ISSUER_SQL = ("SELECT key_id, public_key, revoked_at, town, origins, certificate FROM badge_keys"
              " WHERE key_id IN ({})")


def vouches(key: tuple, person: dict | None, *, own_key: str | None, hub_key: str | None) -> str:
    """'' when the issuer key (a row of ISSUER_SQL) may sign this person's badge, else why not.

    person is None for someone this laptop does not hold (another town's): the scan is
    taken as foreign and the hub names them; the key must still be certified.
    """
    key_id, public_key, _, town, origins, certificate = key
    if public_key in (own_key, hub_key):
        return ""
    if not certified(hub_key, key_id, public_key, town, origins, certificate):
        return "uncertified_key"
    if person is None or person.get("town") == town or person.get("origin") in json.loads(origins):
        return ""
    return "key_not_for_town"


def own_public_key(store: Store) -> str | None:
    """This laptop's own issuer key, or None before it signed its first badge."""
    path = _key_file(store)
    return _own_public(str(path)) if path.exists() else None


@functools.lru_cache(maxsize=64)
def _own_public(path: str) -> str:
    raw = write_secret(Path(path))
    return public_b64(Ed25519PrivateKey.from_private_bytes(raw))


def check_signature(code: str, key_row: Callable[[int], tuple | None]) -> BadgeCheck:
    """Parse the badge and check its signature; revocations are not looked at yet.

    key_row(key_id) gives (public_key, revoked_at) or None. The check carries the
    public key it used, so whoever decides later can tell whether the key changed.
    """
    parts = parse(code)
    if parts is None:
        return BadgeCheck(False, "malformed")
    payload, signature = parts
    person_id = str(ULID.from_bytes(payload[:16]))
    key_id = int.from_bytes(payload[16:18], "big")
    generation = int.from_bytes(payload[18:20], "big")
    row = key_row(key_id)
    if row is None:
        return BadgeCheck(False, "unknown_key", person_id, key_id, generation)
    if not _signed_by(row[0], payload, signature):
        return BadgeCheck(False, "bad_signature", None, key_id, generation)
    return BadgeCheck(True, "ok", person_id, key_id, generation, public_key=row[0])


def revocation_verdict(check: BadgeCheck, key_revoked_at: str | None, min_generation: int | None) -> BadgeCheck:
    """A badge with a good signature, judged against its key's and its holder's revocations."""
    if not check.ok:
        return check
    if key_revoked_at:
        return replace(check, ok=False, reason="key_revoked")
    if min_generation is not None and check.generation < min_generation:
        return replace(check, ok=False, reason="revoked")
    return check


def verify(db: Database, code: str) -> BadgeCheck:
    """Check a scanned badge's signature and revocations against the keys this node holds
    (a scan also asks whether the key vouches for the person: check_in() does)."""
    key = None

    def key_row(key_id: int) -> tuple | None:
        nonlocal key
        key = db.execute(KEY_SQL, [key_id]).fetchone()
        return key

    check = check_signature(code, key_row)
    if not check.ok:
        return check
    revoked = db.execute("SELECT min_generation FROM badge_revocations WHERE person_id = ?",
                         [check.person_id]).fetchone()
    return revocation_verdict(check, key[1], revoked[0] if revoked else None)


def reissue(store: Store, person_id: str, *, actor: str | None = None, reason: str = "reprint") -> str:
    """Revoke every badge the person holds and return the text of the new one."""
    from fieldsync.records import people

    person = people.get(store, person_id)
    generation = int(person["badge_generation"]) + 1

    def work(db: Database) -> dict:
        saved = mutable.save_local(db, store.hlc, "people", person_id,
                                   {"badge_generation": generation}, actor=actor, action="reissue_badge")
        _revoke_below(db, store, person_id, generation, reason)
        return saved

    return issue(store, store.write(work))


def revoke(store: Store, person_id: str, *, reason: str = "lost") -> None:
    """Revoke every badge the person holds now, without printing a new one."""
    from fieldsync.records import people

    person = people.get(store, person_id)
    store.write(lambda db: _revoke_below(db, store, person_id, int(person["badge_generation"]) + 1, reason))


def _revoke_below(db: Database, store: Store, person_id: str, min_generation: int, reason: str) -> None:
    hlc = store.hlc.now()
    row = {"person_id": person_id, "min_generation": min_generation, "reason": reason,
           "hlc": hlc, "revoked_at": utc_now()}
    apply_revocation(db, row)
    record_change(db, "badge_revocations", person_id, "upsert", hlc, row)


def apply_revocation(db: Database, row: dict) -> None:
    """Revocations only ever tighten: the higher minimum generation wins."""
    db.execute(
        "INSERT INTO badge_revocations (person_id, min_generation, reason, hlc, revoked_at)"
        " VALUES (:person_id, :min_generation, :reason, :hlc, :revoked_at)"
        " ON CONFLICT(person_id) DO UPDATE SET min_generation = excluded.min_generation,"
        " reason = excluded.reason, hlc = excluded.hlc, revoked_at = excluded.revoked_at"
        " WHERE excluded.min_generation > badge_revocations.min_generation", row)


def qr_svg(code: str) -> str:
    import qrcode.image.svg

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(code)
    qr.make(fit=True)
    return qr.make_image().to_string(encoding="unicode")


def qr_version(code: str) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(code)
    qr.make(fit=True)
    return qr.version

