"""Enrollment: a hub admin adds a laptop for a town and gets a one-time code; the
laptop exchanges the code for a node id and a long random token.

The hub keeps hashes only (of the code and of the token), so a copy of the hub
database lets nobody push. At enrollment the laptop also registers two public
keys: its badge issuer key, for which the hub assigns a key id every node will
know (failure case 11), and the Ed25519 key that signs its USB bundles (failure
case 12). Revoking a node makes its next call answer 401 saying so.

An answer lost on a bad link must not strand the laptop (decision 0061): the laptop
makes its bundle key before it asks and signs the request with it. Until the code
expires or the laptop first calls with its token, the same laptop (the same key,
proved by that signature) may redeem the code again and gets a fresh token for the
same node; the token it never received stops working. Another key gets "already used".
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlite_utils import Database

from fieldsync import __version__, config
from fieldsync.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from fieldsync.i18n import _
from fieldsync.records import badges, people, pii, places
from fieldsync.records.badges import public_b64
from fieldsync.records.pii import write_secret
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now
from fieldsync.store.hlc import MAX_AHEAD_MS
from fieldsync.store.outbox import forget_acks_after
from fieldsync.sync import chain, entities, hublog
from fieldsync.sync.downstream import certificates, origins
from fieldsync.sync.downstream.receive import audit
from fieldsync.sync.upstream import pull

CODE_HOURS = 24
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"   # no 0/O, 1/I/L: read aloud over the phone
HUB_KEY_IDS = (1, 0x7FFF)
CREDENTIALS_FILE = "hub_credentials.json"
BUNDLE_KEY_FILE = "bundle_signing.key"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


# -- hub side ---------------------------------------------------------------------------
def add_node(store: Store, town: str, name: str, *, actor: str | None = None,
             hub: bool = False) -> tuple[dict, str]:
    """Create a node for a town, or (`hub`) a child hub for a unit directly under this hub's;
    returns it and its one-time enrollment code (shown once)."""
    if hub:
        town = chain.check_new_child(store.db, town)["code"]
    else:
        place = places.get(store, town)
        if place is None or place["kind"] != "town":
            raise ValidationFailed(_("Town %(code)s is not in the gazetteer.", code=town),
                                   fields={"town": [_("Unknown town.")]})
    raw = "".join(secrets.choice(CODE_ALPHABET) for _letter in range(16))
    code = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
    node = {"id": new_id(), "name": name.strip(), "town": town, "code_hash": _hash(raw),
            "code_expires_at": clock.utc_text(clock.now() + timedelta(hours=CODE_HOURS)), "created_at": utc_now(), "created_by": actor,
            "kind": "hub" if hub else "laptop"}

    def work(db: Database) -> None:
        db["nodes"].insert(node)
        audit(db, actor, "node_added", node["id"], f"{name} for {town}")

    store.write(work)
    return node, code


def list_nodes(store: Store) -> list[dict]:
    rows = store.query("SELECT n.*, p.name AS town_name FROM nodes n LEFT JOIN places p ON p.code = n.town"
                       " ORDER BY n.revoked_at IS NOT NULL, p.name, n.name")
    for row in rows:
        skew = row["clock_skew_ms"]
        row["clock_off"] = skew is not None and abs(skew) > MAX_AHEAD_MS
        row["state"] = ("revoked" if row["revoked_at"] else "enrolled" if row["enrolled_at"]
                        else "expired" if row["code_expires_at"] < utc_now() else "waiting")
    return rows


def get_node(store: Store, node_id: str) -> dict:
    row = store.query_one("SELECT * FROM nodes WHERE id = ?", [node_id])
    if row is None:
        raise NotFound(_("No node with id %(id)s.", id=node_id), code="node_not_found")
    return row


def revoke(store: Store, node_id: str, *, actor: str | None = None) -> dict:
    node = get_node(store, node_id)
    if node["revoked_at"]:
        raise Conflict(_("%(name)s was already revoked on %(day)s.", name=node["name"], day=node["revoked_at"][:10]),
                       code="already_revoked")

    def work(db: Database) -> None:
        db.execute("UPDATE nodes SET revoked_at = ?, revoked_by = ?, code_hash = NULL WHERE id = ?",
                   [utc_now(), actor, node_id])
        audit(db, actor, "node_revoked", node_id, node["name"])

    store.write(work)
    return get_node(store, node_id)


def proof_message(request: dict) -> bytes:
    """What the laptop signs with its bundle key to show that a request (and a retry) is its own."""
    return "\n".join(["fieldsync-enroll-1", normalise_code(request["code"]), request["origin"],
                      request["badge_public_key"], request["bundle_public_key"]]).encode()


def _proved(request: dict) -> bool:
    """True when the request carries a good signature by the bundle key it registers; False when it
    carries none (an older laptop: it may enroll, but not redeem the code again); 403 when it is bad."""
    if not request.get("proof"):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(request["bundle_public_key"], validate=True)).verify(
            base64.b64decode(request["proof"], validate=True), proof_message(request))
    except (ValueError, InvalidSignature):
        raise Forbidden(code="bad_enrollment_proof") from None
    return True


def redeem(store: Store, request: dict) -> dict:
    """Exchange a one-time code for a node id and token; register the laptop's keys. The laptop that
    redeemed the code may redeem it again (its answer was lost): a fresh token, the same node."""
    code_hash = _hash(normalise_code(request["code"]))
    proved = _proved(request)
    token = secrets.token_urlsafe(32)
    # One ID number hashes alike on every laptop: the hub gives out its hash key (decision 0085).
    id_hash_key = base64.b64encode(pii.hash_key(store.path.parent)).decode()
    hub_private = certificates.hub_key(store)

    def work(db: Database) -> dict:
        row = db.execute("SELECT id, name, town, code_expires_at, enrolled_at, signing_key, kind FROM nodes"
                         " WHERE code_hash = ? AND revoked_at IS NULL", [code_hash]).fetchone()
        if row is None:
            raise Forbidden(code="bad_enrollment_code")
        node_id, name, town, expires, enrolled_at, signing_key, kind = row
        if expires < utc_now():
            raise Forbidden(code="enrollment_code_expired")
        _same_kind(db, {"id": node_id, "town": town, "kind": kind}, request)
        again = enrolled_at is not None
        if again and not (proved and signing_key == request["bundle_public_key"]):
            raise Forbidden(code="bad_enrollment_code")
        origins.claim(db, node_id, request["origin"])
        key_id = _register_badge_key(db, node_id, request["badge_public_key"], request.get("badge_local_key_id"))
        db.execute("UPDATE nodes SET token_hash = ?, enrolled_at = COALESCE(enrolled_at, ?), origin = ?,"
                   " signing_key = ?, badge_key_id = ? WHERE id = ?",
                   [_hash(token), utc_now(), request["origin"], request["bundle_public_key"], key_id, node_id])
        if not proved:   # nothing to recognise a retry by: the code is spent now
            db.execute("UPDATE nodes SET code_hash = NULL WHERE id = ?", [node_id])
        certificates.certify_keys(db, hub_private)
        audit(db, None, "node_enrolled_again" if again else "node_enrolled", node_id, name)
        return {"node_id": node_id, "name": name, "town": town, "token": token, "badge_key_id": key_id,
                "hub_epoch": hublog.epoch(db), "id_hash_key": id_hash_key,
                "hub_badge_key": public_b64(hub_private), "places": places.for_laptop(db, town),
                "parent_unit": chain.own_unit(db) if kind == "hub" else None}

    enrolled = store.write(work)
    enrolled["town_name"] = places.name_of(store, enrolled["town"])
    return enrolled


def _same_kind(db: Database, node: dict, request: dict) -> None:
    """A code is made for a town laptop or for a child hub, and only that kind may take it."""
    if node["kind"] == "hub" and request.get("mode") != "hub":
        raise Conflict(code="code_for_a_hub")
    if node["kind"] != "hub" and request.get("mode") == "hub":
        raise Conflict(code="code_for_a_laptop")
    if node["kind"] == "hub":
        chain.check_enrolling_child(db, node, request.get("unit"))


def _register_badge_key(db: Database, node_id: str, public_key: str, local_key_id: int | None) -> int:
    """The hub assigns the issuer key id; the laptop's self-chosen id stays valid for badges printed
    before enrollment, unless another key holds it already."""
    taken = db.execute("SELECT key_id FROM badge_keys WHERE public_key = ? AND key_id BETWEEN ? AND ?",
                       [public_key, *HUB_KEY_IDS]).fetchone()
    if taken:
        key_id = taken[0]
    else:
        top = db.execute("SELECT MAX(key_id) FROM badge_keys WHERE key_id BETWEEN ? AND ?", HUB_KEY_IDS).fetchone()[0]
        key_id = (top or 0) + 1
        if key_id > HUB_KEY_IDS[1]:
            raise Conflict(code="no_key_ids")
    wanted = [key_id] + ([local_key_id] if local_key_id and local_key_id > HUB_KEY_IDS[1] else [])
    for kid in wanted:
        holder = db.execute("SELECT public_key FROM badge_keys WHERE key_id = ?", [kid]).fetchone()
        if holder is None:
            db["badge_keys"].insert({"key_id": kid, "public_key": public_key, "owner": node_id,
                                     "created_at": utc_now()})
            hublog.publish(db, entities.get("badge_keys"), kid)
        elif holder[0] == public_key:   # the same laptop enrolled again: its key is certified for it now
            db.execute("UPDATE badge_keys SET owner = ? WHERE key_id = ?", [node_id, kid])
    return key_id


def resolve_token(store: Store, token: str) -> dict | None:
    """The caller behind a node token, or None if it is not one; 401 if that node was revoked."""
    row = store.query_one("SELECT id, name, town, origin, revoked_at, kind FROM nodes WHERE token_hash = ?",
                          [_hash(token)])
    if row is None:
        return None
    if row["revoked_at"]:
        raise Unauthorized(_("This laptop (%(name)s) was revoked by the city association on %(day)s. Ask them to "
                             "enroll it again.", name=row["name"], day=row["revoked_at"][:10]), code="node_revoked")
    return {"kind": "node", "role": None, "id": row["id"], "node_id": row["id"], "name": row["name"],
            "town": row["town"], "origin": row["origin"], "node_kind": row["kind"]}


def touch(db: Database, node_id: str, node_time_ms: int | None, hub_time_ms: int, *, pulled: bool = False) -> None:
    """Remember when a node was last seen and how far its own clock is from ours. A node that calls
    with its token has its enrollment answer: its code is spent for good."""
    skew = node_time_ms - hub_time_ms if node_time_ms is not None else None
    db.execute("UPDATE nodes SET last_seen = ?, clock_skew_ms = COALESCE(?, clock_skew_ms), code_hash = NULL"
               + (", last_pull = ?" if pulled else "") + " WHERE id = ?",
               [utc_now(), skew, *([utc_now()] if pulled else []), node_id])


# -- node side ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    hub_url: str
    node_id: str
    token: str
    town: str


def credentials(instance: Path) -> Credentials | None:
    path = Path(instance) / CREDENTIALS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    return Credentials(data["hub_url"], data["node_id"], data["token"], data["town"])


def _save_credentials(instance: Path, creds: Credentials) -> None:
    """Write the token file readable by its owner only (0600), atomically."""
    path = Path(instance) / CREDENTIALS_FILE
    temp = path.with_suffix(".tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(creds.__dict__, fh)
    os.replace(temp, path)


def bundle_key(instance: Path) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(write_secret(Path(instance) / BUNDLE_KEY_FILE))


def enrollment_request(store: Store, instance: Path, code: str) -> dict:
    """The laptop's enroll request: its database id, both public keys, signed by its bundle key."""
    local_key_id, badge_private = badges.signing_key(store)
    signer = bundle_key(instance)
    request = {"code": normalise_code(code), "origin": store.node_id,
               "badge_public_key": public_b64(badge_private), "badge_local_key_id": local_key_id,
               "bundle_public_key": public_b64(signer)}
    return {**request, "proof": base64.b64encode(signer.sign(proof_message(request))).decode()}


def enroll(store: Store, instance: Path, hub_url: str, code: str) -> dict:
    """On the laptop: exchange the code, store the token (0600), adopt the hub's badge key id.
    Both keys exist (in the instance folder) before the hub is asked, so that when the answer is
    lost, asking again with the same code is recognised as this laptop by the signature.
    A hub enrolls the same way with its parent and becomes a node to it (decision 0130)."""
    from fieldsync.errors import HubUnreachable
    from fieldsync.sync.upstream.client import HubClient

    unit = _own_unit_if_hub(store, instance)
    request = enrollment_request(store, instance, code)
    if unit:
        request.update(mode="hub", unit=unit)
    try:
        answer = HubClient(hub_url).enroll(request)
    except HubUnreachable as exc:
        raise HubUnreachable(_("%(problem)s Run the same enroll command again, with the same code: the hub "
                               "recognises this laptop and enrolls it.", problem=exc.message),
                             extra=exc.extra) from None
    if unit and not chain.is_child_unit(answer.get("parent_unit") or "", unit):
        raise Conflict(_("The hub at %(url)s serves %(parent)s, which is not the unit directly above this hub's"
                         " (%(unit)s); not enrolled.", url=hub_url, parent=answer.get("parent_unit") or "—",
                         unit=unit), code="parent_not_above")
    _save_credentials(instance, Credentials(hub_url.rstrip("/"), answer["node_id"], answer["token"],
                                            answer["town"]))
    config.save(Path(instance), hub_url=hub_url.rstrip("/"), town=None if unit else answer["town"])
    store.write(functools.partial(_adopt_hub if unit else _adopt_laptop, request=request, answer=answer,
                                  hub_url=hub_url))
    # One ID number hashes alike along the chain; a hub whose laptops hash with its own key keeps it.
    adopt = answer.get("id_hash_key") and not (unit and store.query_one(
        "SELECT 1 FROM nodes WHERE enrolled_at IS NOT NULL AND revoked_at IS NULL LIMIT 1"))
    if adopt and pii.adopt_hash_key(instance, base64.b64decode(answer["id_hash_key"])):
        people.rehash(store, actor="enrollment")
    return {**answer, "token": None, "id_hash_key": None, "places": len(answer.get("places", [])), "app_version": __version__}


def _own_unit_if_hub(store: Store, instance: Path) -> str | None:
    """The unit a hub serves (it enrolls as a child hub); None on a laptop."""
    if config.load(Path(instance))["MODE"] != "hub":
        return None
    unit = places.home_unit(store.db)
    if not unit:
        raise ValidationFailed(code="no_unit")
    return unit


def _new_stream(db: Database, answer: dict) -> None:
    """A new enrollment is a new stream at the hub: everything still held goes again (the hub
    drops what it has by id), and the pull starts from the beginning."""
    db.execute("INSERT INTO sync_state (peer, hub_epoch) VALUES ('hub', ?) ON CONFLICT(peer) DO UPDATE"
               " SET hub_epoch = excluded.hub_epoch, pull_cursor = NULL, last_acked_seq = 0,"
               " last_error = NULL", [answer["hub_epoch"]])
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sync_stream_acked', '0')")
    forget_acks_after(db, 0)
    for place in answer.get("places", []):   # the unit's places at once; later changes come with pulls
        pull.apply_pulled(db, entities.get("places"), {"op": "upsert", "fields": place})


def _adopt_laptop(db: Database, request: dict, answer: dict, hub_url: str) -> None:
    db["badge_keys"].upsert({"key_id": answer["badge_key_id"], "public_key": request["badge_public_key"],
                             "owner": request["origin"], "created_at": utc_now()}, pk="key_id")
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('badge_key_id', ?)",
               [str(answer["badge_key_id"])])
    # The anchor of every certificate this laptop will check (records/badges.vouches).
    if answer.get("hub_badge_key"):
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                   [badges.HUB_KEY_META, answer["hub_badge_key"]])
    _new_stream(db, answer)


def _adopt_hub(db: Database, request: dict, answer: dict, hub_url: str) -> None:
    """A child hub keeps its own badge keys and key ids (its laptops' anchor is its own key) and
    queues everything it holds for its parent."""
    _new_stream(db, answer)
    chain.become_child(db, hub_url.rstrip("/"))
