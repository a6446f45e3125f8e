"""QR badges: Ed25519-signed, no personal data, verified offline (DESIGN §5).

A badge reads "FS1:" + base32(person id 16 bytes | issuer key id 2 bytes |
generation 2 bytes | signature 64 bytes): upper-case letters, digits and a
colon, so the QR uses alphanumeric mode and stays at version 7 or below.
Revoking a lost card raises the person's minimum generation; the reprint
carries the new generation and keeps working (failure case 11).
"""

from __future__ import annotations

import base64
import functools
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

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
from fieldsync.store.outbox import record_change, utc_now

PREFIX = "FS1:"
PAYLOAD_LEN = 20
SIG_LEN = 64
# Key ids 1-32767 are assigned by the hub; a laptop not yet enrolled signs
# with a key id it draws from the upper half.
LOCAL_KEY_IDS = (0x8000, 0xFFFF)


@dataclass(frozen=True)
class BadgeCheck:
    ok: bool
    reason: str  # "ok", "malformed", "unknown_key", "bad_signature", "key_revoked", "revoked"
    person_id: str | None = None
    key_id: int | None = None
    generation: int | None = None
    public_key: str | None = None   # the key the signature was checked with


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def signing_key(store: Store) -> tuple[int, Ed25519PrivateKey]:
    """This laptop's issuer key: created on first use, public half registered locally."""
    raw = write_secret(store.path.parent / "badge_signing.key")
    private = Ed25519PrivateKey.from_private_bytes(raw)
    key_id = store.get_meta("badge_key_id")
    if key_id is None:
        key_id = str(secrets.randbelow(LOCAL_KEY_IDS[1] - LOCAL_KEY_IDS[0]) + LOCAL_KEY_IDS[0])
        public = base64.b64encode(private.public_key().public_bytes_raw()).decode()

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


KEY_SQL = "SELECT public_key, revoked_at FROM badge_keys WHERE key_id = ?"


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
    """Check a scanned badge against the issuer keys and revocations this node holds."""
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


def qr_png(code: str, *, box_size: int = 8, border: int = 2) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(code)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


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

