"""What create_app assembles and hands down, and how an app ends (issue 16: registries passed
explicitly, the store closed when the server stops)."""

from __future__ import annotations

from fieldsync.server import create_app, extensions, stations, sync_api
from tests.support import LiveServer, WebClient


def test_each_app_keeps_its_own_token_resolvers(node_instance, tmp_path):
    hub = create_app({"MODE": "hub", "AUTO_SYNC_SECONDS": 0}, instance=tmp_path / "hub")
    node = create_app({"TESTING": True, "AUTO_SYNC_SECONDS": 0}, instance=node_instance)
    try:
        # A hub made earlier in the same process lends the node nothing: a node knows stations only.
        assert node.extensions[extensions.BEARER_RESOLVERS] == [stations.resolve_bearer]
        assert hub.extensions[extensions.BEARER_RESOLVERS] == [stations.resolve_bearer, sync_api.resolve_node_token]
    finally:
        for app in (hub, node):
            app.extensions[extensions.STORE].close()


def test_a_stopped_server_closes_its_store_and_leaves_no_wal(node_instance):
    wal = node_instance / "fieldsync.db-wal"
    with LiveServer(node_instance) as server:
        assert WebClient(server.url).login("staff").ok   # a write: the WAL holds it
        assert wal.exists()
    # SIGTERM (what a service manager sends) ends the server like Ctrl+C: the store closes, and
    # SQLite folds the WAL back into the database as the last connection goes.
    assert server.proc.returncode == 0, server.log()
    assert not wal.exists()
