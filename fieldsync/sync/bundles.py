"""USB bundles: the pending batches in one signed file, for towns without a usable line.

A bundle is gzip'd JSON lines (format version 2, decision 0060):

    {"format": "fieldsync-bundle", "version": 2, "node_id", ..., "body": {"sha256", "bytes", "lines"}}
    {"signature": "<base64 Ed25519 over the first line>"}
    <one push request per line: the very batches `fieldsync sync` would send>

The signature, made with the key the laptop registered at enrollment, covers the
header and through it the body's digest, size and line count. So the hub reads two
short lines, checks the signature and refuses a stick that is not from an enrolled
laptop before it reads any further; then it reads the body once, no more than the
signed size, checking it against the digest, and only then applies it: each batch
goes to receive(), the code a push goes through, so replays and gaps behave the
same. A revoked laptop's bundle needs an admin's override (failure case 12).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fieldsync.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from fieldsync.i18n import _
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.sync import batches, enrollment
from fieldsync.sync.downstream import receive
from fieldsync.sync.protocol import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_CHANGES
from fieldsync.sync.upstream.push import load_stream, request_body

FORMAT = "fieldsync-bundle"
VERSION = 2
MAX_HEAD_BYTES = 4096                # each of the first two lines (header, signature)
MAX_BUNDLE_BYTES = 2 * 1024 ** 3     # the body, decompressed: a gzip bomb stops here
MAX_BUNDLE_LINES = 100_000           # batches of up to 5,000 changes each
MAX_LINE_BYTES = 64 * 1024 * 1024    # one batch, as for a push


def export(store: Store, instance: Path, target: Path, *, progress: Callable[[int], None] | None = None) -> dict:
    """Write every change the hub has not acknowledged into one signed file. The header names the
    body's digest, so the body goes to a file beside the target first; the header (one gzip member)
    and that body (another) then make the bundle, which gzip reads as one stream."""
    creds = enrollment.credentials(instance)
    if creds is None:
        raise Conflict(_("Only an enrolled laptop can export a bundle (the hub must know its key)."),
                       code="not_enrolled")
    stream = load_stream(store.db)
    body_file, partial = (target.with_name(target.name + suffix) for suffix in (".body", ".part"))
    try:
        body, batch_count, changes = _write_body(store, stream, body_file, progress)
        head = _line({"format": FORMAT, "version": VERSION, "node_id": creds.node_id, "town": creds.town,
                      "origin": store.node_id, "replica": stream.replica, "created_at": utc_now(), "body": body})
        signature = enrollment.bundle_key(instance).sign(head)
        with partial.open("wb") as out, body_file.open("rb") as body_in:
            out.write(gzip.compress(head + _line({"signature": base64.b64encode(signature).decode()})))
            shutil.copyfileobj(body_in, out)
        os.replace(partial, target)
    finally:
        body_file.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return {"file": str(target), "batches": batch_count, "changes": changes}


def _line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _write_body(store: Store, stream, body_file: Path, progress) -> tuple[dict, int, int]:
    digest, size, count, changes = hashlib.sha256(), 0, 0, 0
    with gzip.open(body_file, "wb") as out:
        after = stream.acked
        while batch := batches.read_batch(store.db, after, max_changes=DEFAULT_BATCH_CHANGES,
                                          max_bytes=DEFAULT_BATCH_BYTES, replica=stream.replica):
            text = _line(request_body(batch, stream))
            digest.update(text)
            out.write(text)
            after, size, count, changes = batch.to_seq, size + len(text), count + 1, changes + batch.count
            if progress:
                progress(batch.count)
    return {"sha256": digest.hexdigest(), "bytes": size, "lines": count}, count, changes


def import_bundle(store: Store, source: BinaryIO, *, actor: str | None, override: bool = False) -> dict:
    """Verify a bundle (header signature first, then the body against it), then apply its batches
    as pushes from its node. `source` is read from its start, twice."""
    header, node = _verified_header(store, _Reader(source))
    reader = _Reader(source)
    reader.skip_head()
    reader.check_body(header["body"])
    if node["revoked_at"] and not override:
        raise Forbidden(_("%(name)s was revoked on %(day)s; an admin must confirm the import (override).",
                          name=node["name"], day=node["revoked_at"][:10]), code="revoked_node_bundle")
    summary = {"node": node["name"], "batches": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "replays": 0}
    sender = {"id": node["id"], "name": node["name"], "origin": node["origin"]}
    reader = _Reader(source)
    reader.skip_head()
    for line in reader.body_lines(header["body"]):
        ack = receive.receive(store, sender, _json(line), source="bundle")
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


def _verified_header(store: Store, reader: _Reader) -> tuple[dict, dict]:
    """The header and its node, once the signature over it holds; reads the first two lines only."""
    head = reader.head_line()
    header = _json(head)
    if header.get("format") != FORMAT:
        raise BadRequest(code="bad_bundle")
    if header.get("version") == 1:
        raise BadRequest(_("This bundle was written by an older fieldsync. Update fieldsync on the laptop and "
                           "export the bundle again: the laptop keeps every record until the hub has it."),
                         code="bundle_version")
    if header.get("version") != VERSION:
        raise BadRequest(_("This is not a fieldsync bundle of a version this hub reads."), code="bundle_version")
    try:
        signature = base64.b64decode(_json(reader.head_line()).get("signature") or "", validate=True)
    except (ValueError, TypeError):
        signature = b""
    node = store.query_one("SELECT * FROM nodes WHERE id = ?", [str(header.get("node_id"))])
    if node is None:
        raise NotFound(code="unknown_node")
    if not node["signing_key"]:
        raise Forbidden(code="no_signing_key")
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(node["signing_key"])).verify(signature, head)
    except InvalidSignature:
        raise _altered() from None
    header["body"] = _body_terms(header.get("body"))
    return header, node


def _body_terms(body) -> dict:
    """The signed description of the body, within what this hub takes at once."""
    if not (isinstance(body, dict) and isinstance(body.get("sha256"), str)
            and all(type(body.get(k)) is int and body[k] >= 0 for k in ("bytes", "lines"))):
        raise BadRequest(_("The bundle's header does not describe its contents."), code="bad_bundle")
    if body["bytes"] > MAX_BUNDLE_BYTES or body["lines"] > MAX_BUNDLE_LINES:
        raise PayloadTooLarge(_("The bundle holds more than this hub accepts at once (%(mib)s MiB, %(lines)s "
                                "batches); sync part of it over the line first.", mib=MAX_BUNDLE_BYTES // 1024 ** 2,
                                lines=MAX_BUNDLE_LINES), code="bundle_too_large")
    return body


def _altered() -> Forbidden:
    return Forbidden(_("The bundle's signature does not match its laptop's key: it was altered or "
                       "comes from elsewhere."), code="bad_signature")


class _Reader:
    """The decompressed bundle, read line by line within bounds; any gzip fault is a clear 400."""

    def __init__(self, source: BinaryIO):
        source.seek(0)
        self.gzip = gzip.GzipFile(fileobj=source, mode="rb")

    def _readline(self, limit: int) -> bytes:
        try:
            return self.gzip.readline(limit)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadRequest(_("This is not a fieldsync bundle (not gzip, or cut short): %(problem)s.", problem=exc),
                             code="bad_bundle") from None

    def head_line(self) -> bytes:
        line = self._readline(MAX_HEAD_BYTES + 1)
        if not line.endswith(b"\n") or len(line) > MAX_HEAD_BYTES:
            raise BadRequest(_("This is not a fieldsync bundle (its first lines are not a bundle header)."),
                             code="bad_bundle")
        return line

    def skip_head(self) -> None:
        self.head_line()
        self.head_line()

    def body_lines(self, body: dict):
        """The body's lines, never more than its signed size and count."""
        left = body["bytes"]
        for _line in range(body["lines"]):
            line = self._readline(min(left, MAX_LINE_BYTES) + 1)
            if not line.endswith(b"\n") or len(line) > left:
                raise _altered()
            left -= len(line)
            yield line
        if left or self._readline(1):
            raise _altered()

    def check_body(self, body: dict) -> None:
        digest = hashlib.sha256()
        for line in self.body_lines(body):
            digest.update(line)
        if digest.hexdigest() != body["sha256"]:
            raise _altered()


def _json(line: bytes) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        raise BadRequest(_("The bundle holds a line that is not JSON."), code="bad_bundle") from None
    if not isinstance(value, dict):
        raise BadRequest(_("The bundle holds a line that is not a JSON object."), code="bad_bundle")
    return value
