"""What create_app keeps in app.extensions, and how a request reaches it.

Blueprints import their helpers from here, never from the fieldsync.server package, whose
create_app imports the blueprints: the package would otherwise import itself back.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from fieldsync.store import Store

STORE = "fieldsync.store"
BEARER_RESOLVERS = "fieldsync.bearer_resolvers"

# token -> principal dict ({"kind": "station"|"node", "role": ..., ...}) or None
BearerResolver = Callable[[str], dict | None]


def get_store() -> Store:
    return current_app.extensions[STORE]


def bearer_resolvers() -> list[BearerResolver]:
    """The ways this app knows a bearer token, in the order create_app added them."""
    return current_app.extensions[BEARER_RESOLVERS]
