"""Personal data at rest: ID numbers sealed with a key kept in the instance folder.

The key file lives beside the database, not in it, so a copied database file
alone does not reveal ID numbers. A keyed hash (HMAC) finds duplicates
without decrypting. Full ID numbers never leave the laptop they were typed
on: sync carries only the masked form and the keyed hash
(docs/decisions/0002-id-numbers-stay-local.md). The hash key is the hub's,
given to every laptop at enrollment, so one ID number hashes alike in every
town (docs/decisions/0085-one-id-hash-key.md); the sealing key never leaves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def write_secret(path: Path, size: int = 32) -> bytes:
    """Read a secret file, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = os.urandom(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


HASH_KEY_FILE = "id_hash.key"


def _write_file(path: Path, secret: bytes) -> None:
    """Write a secret readable by its owner only (0600), replacing any earlier one atomically."""
    temp = path.with_suffix(".tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    os.replace(temp, path)


def hash_key(instance_dir: Path) -> bytes:
    """The ID-number hash key, made on first use. Before it had a file of its own it was derived
    from the sealing key; an instance that has one keeps that value, so its hashes stay valid."""
    path = Path(instance_dir) / HASH_KEY_FILE
    if path.exists():
        return path.read_bytes()
    sealing = Path(instance_dir) / "pii.key"
    secret = (hashlib.sha256(b"fieldsync-id-hash" + sealing.read_bytes()).digest()
              if sealing.exists() else os.urandom(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_file(path, secret)
    return secret


def adopt_hash_key(instance_dir: Path, secret: bytes) -> bool:
    """Take the hub's hash key (at enrollment). True when it differs from the one held before."""
    if hash_key(instance_dir) == secret:
        return False
    _write_file(Path(instance_dir) / HASH_KEY_FILE, secret)
    return True


class Sealer:
    def __init__(self, instance_dir: Path):
        key = write_secret(Path(instance_dir) / "pii.key")
        self._aead = AESGCM(key)
        self._hash_key = hash_key(instance_dir)

    def seal(self, text: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, text.encode(), None)).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def keyed_hash(self, text: str) -> str:
        return hmac.new(self._hash_key, text.encode(), hashlib.sha256).hexdigest()[:32]
