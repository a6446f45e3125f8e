"""USB bundles: the pending batches in one signed file, for towns without a usable line.

A bundle is gzip'd JSON lines: a header naming the node, then one push request
per line (the very batches `fieldsync sync` would send), then an Ed25519
signature over everything before it, made with the key the laptop registered
at enrollment. The hub checks the whole signature before applying anything,
then feeds each batch to receive(), the same code a push goes through: replays
and gaps behave the same. A revoked laptop's bundle needs an admin's override
(failure case 12).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fieldsync.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from fieldsync.store import Store
from fieldsync.store.outbox import utc_now
from fieldsync.sync import batches, enrollment, receive
from fieldsync.sync.protocol import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_CHANGES
from fieldsync.sync.push import load_stream, request_body

FORMAT = "fieldsync-bundle"
VERSION = 1
MAX_BUNDLE_BYTES = 2 * 1024 ** 3     # decompressed: a gzip bomb stops here
MAX_LINE_BYTES = 64 * 1024 * 1024    # one batch, as for a push


def export(store: Store, instance: Path, target: Path, *, progress: Callable[[int], None] | None = None) -> dict:
    """Write every change the hub has not acknowledged into one signed file."""
    creds = enrollment.credentials(instance)
    if creds is None:
        raise Conflict("Only an enrolled laptop can export a bundle (the hub must know its key).",
                       code="not_enrolled")
    stream = load_stream(store.db)
    digest = hashlib.sha256()
    header = {"format": FORMAT, "version": VERSION, "node_id": creds.node_id, "town": creds.town,
              "origin": store.node_id, "replica": stream.replica, "created_at": utc_now()}
    count = changes = 0
    with gzip.open(target, "wb") as out:
        def line(obj: dict) -> None:
            text = (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            digest.update(text)
            out.write(text)

        line(header)
        after = stream.acked
        while batch := batches.read_batch(store.db, after, max_changes=DEFAULT_BATCH_CHANGES,
                                          max_bytes=DEFAULT_BATCH_BYTES, replica=stream.replica):
            line(request_body(batch, stream))
            after, count, changes = batch.to_seq, count + 1, changes + batch.count
            if progress:
                progress(batch.count)
        signature = enrollment.bundle_key(instance).sign(digest.digest())
        out.write((json.dumps({"signature": base64.b64encode(signature).decode()}) + "\n").encode())
    return {"file": str(target), "batches": count, "changes": changes}


def import_bundle(store: Store, source: BinaryIO, *, actor: str | None, override: bool = False) -> dict:
    """Verify a bundle's signature, then apply its batches as pushes from its node."""
    header, signature, digest = _scan(source)
    node = store.query_one("SELECT * FROM nodes WHERE id = ?", [header.get("node_id")])
    if node is None:
        raise NotFound("This bundle comes from a laptop this hub never enrolled.", code="unknown_node")
    if not node["signing_key"]:
        raise Forbidden("That laptop never registered a signing key with this hub.", code="no_signing_key")
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(node["signing_key"])).verify(signature, digest)
    except InvalidSignature:
        raise Forbidden("The bundle's signature does not match its laptop's key: it was altered or "
                        "comes from elsewhere.", code="bad_signature") from None
    if node["revoked_at"] and not override:
        raise Forbidden(f"{node['name']} was revoked on {node['revoked_at'][:10]}; an admin must confirm "
                        "the import (override).", code="node_revoked")
    summary = {"node": node["name"], "batches": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "replays": 0}
    sender = {"id": node["id"], "name": node["name"], "origin": node["origin"]}
    for batch in _batches(source):
        ack = receive.receive(store, sender, batch, source="bundle")
        summary["batches"] += 1
        if ack.get("replay"):           # imported before: the same answer, nothing written
            summary["replays"] += 1
            continue
        for key in ("accepted", "duplicates"):
            summary[key] += ack[key]
        summary["rejected"] += len(ack["rejected"])
    store.write(lambda db: receive.audit(db, actor, "bundle_imported", node["id"],
                                         json.dumps(summary, ensure_ascii=False)
                                         + (" (override: node revoked)" if node["revoked_at"] else "")))
    return summary


def _lines(source: BinaryIO):
    source.seek(0)
    total = 0
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as reader:
            while line := reader.readline(MAX_LINE_BYTES + 1):
                total += len(line)
                if len(line) > MAX_LINE_BYTES or total > MAX_BUNDLE_BYTES:
                    raise PayloadTooLarge("The bundle holds more than this hub accepts at once.",
                                          code="bundle_too_large")
                yield line
    except (OSError, EOFError) as exc:
        raise BadRequest(f"This is not a fieldsync bundle (not gzip, or cut short): {exc}.",
                         code="bad_bundle") from None


def _json(line: bytes) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        raise BadRequest("The bundle holds a line that is not JSON.", code="bad_bundle") from None
    if not isinstance(value, dict):
        raise BadRequest("The bundle holds a line that is not a JSON object.", code="bad_bundle")
    return value


def _scan(source: BinaryIO) -> tuple[dict, bytes, bytes]:
    """First pass: header, signature, and the digest of everything the signature covers."""
    digest, header, last = hashlib.sha256(), None, None
    for line in _lines(source):
        if last is not None:
            digest.update(last)
        last = line
        if header is None:
            header = _json(line)
    if header is None or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BadRequest("This is not a fieldsync bundle of a version this hub reads.", code="bad_bundle")
    try:
        signature = base64.b64decode(_json(last).get("signature") or "", validate=True)
    except ValueError:
        signature = b""
    return header, signature, digest.digest()


def _batches(source: BinaryIO):
    lines = _lines(source)
    next(lines)                       # the header
    previous = None
    for line in lines:
        if previous is not None:
            yield _json(previous)
        previous = line               # the last line is the signature
