"""Hub: certify each enrolled laptop's badge issuer key for its town (decision 0065).

A certificate is the hub's Ed25519 signature over (key id, public key, town, the
database ids the laptop registers people under). It travels in the pull with the
key; a laptop trusts the key for other people than its own town's only under it,
and checks it against the hub key it learned at enrollment (records/badges.vouches).

The hub brings certificates up to date before every pull: a new enrollment, a
laptop found to be a copy (a new origin), and the keys enrolled before
certificates existed all get theirs, and are published again.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlite_utils import Database

from fieldsync.records import badges
from fieldsync.store import Store
from fieldsync.sync import entities, hublog
from fieldsync.sync.downstream import origins


def hub_key(store: Store) -> Ed25519PrivateKey:
    """The hub's own issuer key, which also signs certificates; its public half is the anchor
    the hub's own kiosk checks laptop keys with, as the laptops do."""
    _, private = badges.signing_key(store)
    public = badges.own_public_key(store)
    if store.get_meta(badges.HUB_KEY_META) != public:
        store.set_meta(badges.HUB_KEY_META, public)
    return private


def certify_keys(db: Database, hub_private: Ed25519PrivateKey) -> int:
    """Certify every enrolled laptop's key whose certificate is missing or out of date; publish it."""
    anchor = badges.public_b64(hub_private)
    rows = db.execute("SELECT k.key_id, k.public_key, k.town, k.origins, k.certificate, n.id, n.town"
                      " FROM badge_keys k JOIN nodes n ON n.id = k.owner").fetchall()
    done = 0
    for key_id, public, town, certified_origins, certificate, node_id, node_town in rows:
        wanted = badges.canonical_origins(origins.of(db, node_id))
        if (town, certified_origins) == (node_town, wanted) and badges.certified(
                anchor, key_id, public, town, certified_origins, certificate):
            continue
        db.execute("UPDATE badge_keys SET town = ?, origins = ?, certificate = ? WHERE key_id = ?",
                   [node_town, wanted, badges.certify(hub_private, key_id, public, node_town, wanted), key_id])
        hublog.publish(db, entities.get("badge_keys"), key_id)
        done += 1
    return done
