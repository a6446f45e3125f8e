"""Two hub processes on one PostgreSQL database: a batch pushed to both at the same moment is
taken once (decision 0300). Each process checks a batch against `batches` and `streams` and
inserts it inside one write, and every write of every process first takes the same advisory
lock, so the second process finds what the first committed and answers it as a replay.

The database's default isolation is set to repeatable read, as a DBA may: a write still runs at
read committed, so that its statements after the lock see the last write's commit (a snapshot
taken by the lock statement would not). Without the lock (tried on a scratch copy) the rollups
count scans twice (both processes fold the same pending ranges)."""

from __future__ import annotations

import threading

import psycopg
import pytest

from fieldsync import config, demo
from fieldsync.parts import open_store
from fieldsync.reports import rollup
from fieldsync.sync import batches
from fieldsync.sync.upstream import push as push_mod
from fieldsync.sync.upstream.client import HubClient, HubError
from tests.backends import postgres_url
from tests.support import LiveServer
from tests.sync.conftest import TOWN_A, TOWN_B, Cluster, empty_template, town_b_template  # noqa: F401 -- fixtures
from tests.sync.test_push import client_of, scan_everyone

PUSHERS_PER_PROCESS = 2
ACK_FIELDS = ("batch_id", "acked_to", "accepted", "duplicates", "rejected", "conflicts", "hub_epoch")


@pytest.fixture
def two_hubs(tmp_path, demo_template, town_b_template, empty_template):   # noqa: F811
    """One hub folder on a fresh PostgreSQL database, served by two `fieldsync serve --hub`."""
    folder, url = tmp_path / "hub", postgres_url()
    with psycopg.connect(url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'repeatable read'")
    config.save(folder, mode="hub", database=url)
    with open_store(folder / "fieldsync.db") as store:
        demo.places_and_accounts(store)
    first, second = LiveServer(folder, hub=True).start(), LiveServer(folder, hub=True).start()
    cluster = Cluster(tmp_path, first, {TOWN_A: demo_template, TOWN_B: town_b_template, "empty": empty_template})
    yield cluster, second
    second.stop()
    cluster.stop()


def push_at_once(servers: list[LiveServer], token: str, body: bytes) -> list[tuple[int, dict]]:
    """The same body pushed by PUSHERS_PER_PROCESS threads to each server, released together."""
    pushers = [server for server in servers for _ in range(PUSHERS_PER_PROCESS)]
    start, answers = threading.Barrier(len(pushers)), [None] * len(pushers)

    def run(i: int, server: LiveServer) -> None:
        client = HubClient(server.url, token)
        start.wait()
        try:
            answers[i] = (200, client.push(body))
        except HubError as exc:
            answers[i] = (exc.status, {"code": exc.code})

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(pushers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def ranges(total: int, size: int) -> list[int]:
    """Where each batch starts (after which seq): forward by `size`, every other one stepping
    back half a batch, so it overlaps what the hub already acknowledged."""
    afters, after, back = [], 0, False
    while after < total:
        afters.append(after)
        after = after + size - (size // 2 if back else 0)
        back = not back
    return afters


def rollups(store) -> dict[str, list]:
    tables = [r["name"] for r in store.query("SELECT table_name AS name FROM information_schema.tables"
                                              " WHERE table_schema = current_schema() AND table_name LIKE 'rollup%'"
                                              " AND table_name != 'rollup_pending' AND table_type = 'BASE TABLE'")]
    return {t: sorted(map(repr, store.db.execute(f"SELECT * FROM {t}").fetchall())) for t in sorted(tables)}


def test_a_batch_pushed_to_two_hub_processes_at_once_is_taken_once(two_hubs):
    cluster, second = two_hubs
    servers = [cluster.hub, second]
    node = cluster.add_node(TOWN_A)
    scan_everyone(node, limit=60)
    scan_everyone(node, session_index=1, limit=60)
    token = client_of(node).token
    stream = push_mod.load_stream(node.store.db)
    total = node.store.query_one("SELECT MAX(seq) AS n FROM changes")["n"]
    accepted = 0
    for after in ranges(total, 40):
        batch = batches.read_batch(node.store.db, after, max_changes=40, max_bytes=4 << 20, replica=stream.replica)
        body = push_mod.encode(batch, stream)
        for attempt in ("new", "retry"):   # the retry: a laptop that never heard the acknowledgement
            answers = push_at_once(servers, token, body)
            assert [status for status, _ in answers] == [200] * len(answers), answers
            acks = [ack for _, ack in answers]
            assert len({tuple(repr(ack[f]) for f in ACK_FIELDS) for ack in acks}) == 1, acks
            assert sum(not ack["replay"] for ack in acks) == (1 if attempt == "new" else 0), acks
            assert acks[0]["acked_to"] == batch.to_seq
        accepted += acks[0]["accepted"]
    assert accepted == total   # every change taken once, by one process

    def ids(query, table):
        return sorted(r["id"] for r in query(f"SELECT id FROM {table}"))
    for table in ("checkins", "people", "sessions"):
        assert ids(cluster.hub_query, table) == ids(node.query, table)
    with cluster.hub_store() as store:
        assert store.query("SELECT high_water FROM streams") == [{"high_water": total}]
        assert store.query_one("SELECT COUNT(*) AS n FROM quarantine")["n"] == 0
        rollup.current(store)
        kept = rollups(store)
        store.write(rollup.rebuild)
        assert rollups(store) == kept
    pulls = [HubClient(server.url, token).pull("", limit=5000) for server in servers]
    for pulled in pulls:
        pulled.pop("server_time")
    assert pulls[0] == pulls[1] and pulls[0]["changes"]
