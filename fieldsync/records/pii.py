"""Personal data at rest: ID numbers sealed with a key kept in the instance folder.

The key file lives beside the database, not in it, so a copied database file
alone does not reveal ID numbers. A keyed hash (HMAC) finds duplicates
without decrypting. Full ID numbers never leave the laptop they were typed
on: sync carries only the masked form and the keyed hash
(docs/decisions/0003-id-numbers-stay-local.md).
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


class Sealer:
    def __init__(self, instance_dir: Path):
        key = write_secret(Path(instance_dir) / "pii.key")
        self._aead = AESGCM(key)
        self._hash_key = hashlib.sha256(b"fieldsync-id-hash" + key).digest()

    def seal(self, text: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, text.encode(), None)).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def keyed_hash(self, text: str) -> str:
        return hmac.new(self._hash_key, text.encode(), hashlib.sha256).hexdigest()[:32]
