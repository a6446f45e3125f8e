"""A hub and town nodes as separate processes on loopback ports, for sync tests (and the fault suite).

    def test_something(cluster):
        a = cluster.add_node(TOWN_A)          # enrolled, stopped: a.sync() runs in this process
        b = cluster.add_node(TOWN_B).serve()  # its own `fieldsync serve`: b.sync() asks it over HTTP
        a2 = cluster.add_node(TOWN_A)         # a second laptop of town A: empty until it pulls
        a.sync(); b.sync()

`cluster.hub` is the hub's LiveServer; `cluster.hub_store()` opens its database
here (SQLite lets both processes in). Put a FaultProxy between a node and the
hub with `cluster.add_node(TOWN_A, via=proxy)`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.store import Store, new_id
from fieldsync.sync import enrollment
from fieldsync.sync.upstream import node as node_sync
from tests.backends import copy_instance, save_hub_config
from tests.support import LiveServer, WebClient

TOWN_A = demo.DEMO_TOWN          # 张村镇
TOWN_B = "371002101000"          # 羊亭镇


@pytest.fixture(scope="session")
def hub_template(tmp_path_factory) -> Path:
    """A hub instance with the gazetteer and the demo accounts (admin, staff, trainer)."""
    path = tmp_path_factory.mktemp("hub-template")
    save_hub_config(path)
    with open_store(path / "fieldsync.db") as store:
        demo.places_and_accounts(store)
    return path


@pytest.fixture(scope="session")
def town_b_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("town-b-template")
    config.save(path, mode="node", town=TOWN_B)
    with open_store(path / "fieldsync.db") as store:
        demo.load(store, town=TOWN_B, people_per_village=2, seed=7)
    return path


class Node:
    """A town laptop: its instance folder, optionally its own server process."""

    def __init__(self, cluster: Cluster, instance: Path, name: str, town: str, node_id: str):
        self.cluster, self.instance, self.name, self.town, self.node_id = cluster, instance, name, town, node_id
        self.server: LiveServer | None = None
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        """This laptop's database opened in the test process (only while no server runs)."""
        assert self.server is None, "the node runs as a process: talk to it over HTTP"
        if self._store is None:
            self._store = open_store(self.instance / "fieldsync.db")
        return self._store

    def close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def serve(self) -> Node:
        self.close_store()
        self.server = LiveServer(self.instance).start()
        self.staff = WebClient(self.server.url)
        assert self.staff.login("staff").ok
        return self

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    def sync(self) -> dict:
        """Push then pull; returns {"summary", "pushed", "pulled", ...}. Raises on failure."""
        if self.server:
            response = self.staff.post("/api/v1/sync/run", timeout=120)
            assert response.status_code == 200, response.text
            return response.json()
        summary = node_sync.sync(self.store, self.instance)
        return {"summary": summary.text(), "pushed": summary.push.pushed, "pulled": summary.pull.pulled,
                "rejected": summary.push.rejected, "result": summary}

    def query(self, sql: str, params=()) -> list[dict]:
        if self.server:
            with open_store(self.instance / "fieldsync.db") as store:
                return store.query(sql, params)
        return self.store.query(sql, params)


def _new_identity(db_file: Path) -> None:
    """Copies of the empty template are different laptops: their own node id (HLC, origin) and
    replica. (A copy holding records keeps its id: the records name it as their origin.)"""
    def work(db):
        db.execute("UPDATE meta SET value = ? WHERE key = 'node_id'", [new_id()])
        db.execute("UPDATE meta SET value = ? WHERE key = 'replica_id'", [secrets.token_hex(8)])

    with open_store(db_file) as store:   # a hub's may be on PostgreSQL
        store.write(work)


class Cluster:
    def __init__(self, root: Path, hub: LiveServer, templates: dict[str, Path]):
        self.root, self.hub, self.templates = root, hub, templates
        self.nodes: list[Node] = []
        self._towns_used: set[str] = set()

    @contextmanager
    def hub_store(self):
        with open_store(self.hub.instance / "fieldsync.db") as store:
            yield store

    def hub_query(self, sql: str, params=()) -> list[dict]:
        with self.hub_store() as store:
            return store.query(sql, params)

    def enrollment_code(self, town: str, name: str) -> tuple[dict, str]:
        with self.hub_store() as store:
            return enrollment.add_node(store, town, name, actor="test")

    def add_node(self, town: str = TOWN_A, *, name: str | None = None, via=None, empty: bool = False,
                 prepare: Callable[[Store], object] | None = None) -> Node:
        """A town laptop enrolled with the hub (through `via`, a proxy). The first laptop of a town
        holds the town's demo data; another one of the same town (or `empty`) starts with an empty
        roster and a database of its own, and gets the roster at its first pull.
        `prepare(store)` runs before enrollment."""
        name = name or f"node{len(self.nodes) + 1}"
        instance = self.root / name
        fresh = empty or town in self._towns_used
        copy_instance(self.templates["empty" if fresh else town], instance)
        config.save(instance, town=town)
        if fresh:
            _new_identity(instance / "fieldsync.db")
        else:
            self._towns_used.add(town)
        record, code = self.enrollment_code(town, name)
        with open_store(instance / "fieldsync.db") as store:
            if prepare:
                prepare(store)
            enrollment.enroll(store, instance, (via or self.hub).url, code)
        node = Node(self, instance, name, town, record["id"])
        self.nodes.append(node)
        return node

    def stop(self) -> None:
        for node in self.nodes:
            node.close_store()
            node.stop()
        self.hub.stop()


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory) -> Path:
    """A laptop with the gazetteer and accounts but nobody on its roster yet."""
    path = tmp_path_factory.mktemp("empty-node-template")
    config.save(path, mode="node", town=TOWN_A)
    with open_store(path / "fieldsync.db") as store:
        demo.places_and_accounts(store)
    return path


@pytest.fixture
def hub_instance(hub_template, tmp_path) -> Path:
    target = tmp_path / "hub"
    copy_instance(hub_template, target)
    return target


@pytest.fixture
def cluster(hub_instance, demo_template, town_b_template, empty_template, tmp_path):
    hub = LiveServer(hub_instance, hub=True).start()
    running = Cluster(tmp_path, hub, {TOWN_A: demo_template, TOWN_B: town_b_template, "empty": empty_template})
    yield running
    running.stop()
