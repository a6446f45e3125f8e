"""Outbox retention counts from the hub's acknowledgement, not from when a change was written:
a hub restored from last night's backup can get back whatever it acknowledged in the last
30 days (failure case 3), however old the changes are."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

from fieldsync.parts import migrate
from fieldsync.store import connect
from fieldsync.store.clock import utc_text
from fieldsync.store.schema import core
from fieldsync.sync.upstream import push as push_mod
from tests.backends import copy_instance
from tests.sync.conftest import TOWN_A
from tests.sync.test_push import client_of, scan_everyone


def days_ago(days: float) -> str:
    return utc_text(datetime.now(UTC) - timedelta(days=days))


def outbox_seqs(node) -> list[int]:
    return [r["seq"] for r in node.query("SELECT seq FROM changes ORDER BY seq")]


def date_acks(node, days: float) -> None:
    """Let time pass: every acknowledgement so far happened `days` ago."""
    node.store.write(lambda db: db.execute("UPDATE outbox_acks SET at = ?", [days_ago(days)]))


def write_long_ago(node, days: float = 40) -> None:
    """A laptop offline for weeks: everything in its outbox was written `days` ago."""
    node.store.write(lambda db: db.execute("UPDATE changes SET created_at = ?", [days_ago(days)]))


def test_a_backlog_older_than_the_retention_is_kept_30_days_after_it_is_acknowledged(cluster):
    node = cluster.add_node(TOWN_A)
    write_long_ago(node)
    written = outbox_seqs(node)
    assert node.sync()["pushed"] == len(written)
    assert outbox_seqs(node) == written
    acks = node.query("SELECT acked_to, at FROM outbox_acks ORDER BY acked_to")
    assert acks[-1]["acked_to"] == written[-1]
    assert all(ack["at"] > days_ago(1) for ack in acks)
    date_acks(node, 29)
    node.sync()
    assert outbox_seqs(node) == written


def test_rows_acknowledged_more_than_30_days_ago_go_at_the_next_push(cluster):
    node = cluster.add_node(TOWN_A)
    node.sync()
    acked = outbox_seqs(node)
    date_acks(node, 31)                    # written today, acknowledged a month ago: time to go
    scan_everyone(node, limit=5)
    fresh = outbox_seqs(node)[len(acked):]
    assert node.sync()["pushed"] == len(fresh) > 0
    assert outbox_seqs(node) == fresh
    # What the next prune needs, and nothing below what went.
    assert [r["acked_to"] for r in node.query("SELECT acked_to FROM outbox_acks ORDER BY acked_to")] == \
        [acked[-1], fresh[-1]]


def test_a_rewind_forgets_acknowledgements_past_it_and_resent_rows_wait_a_whole_period(cluster, tmp_path):
    node = cluster.add_node(TOWN_A)
    node.sync()
    in_backup = outbox_seqs(node)
    cluster.hub.stop()
    copy_instance(cluster.hub.instance, tmp_path / "backup")
    cluster.hub.start()
    scan_everyone(node, limit=20)
    node.sync()                                   # acknowledged, then lost with the restore
    date_acks(node, 31)                           # ... a month ago
    cluster.hub.stop()
    shutil.rmtree(cluster.hub.instance)
    copy_instance(tmp_path / "backup", cluster.hub.instance)
    cluster.hub.start()
    scan_everyone(node, session_index=1, limit=3)
    resent = outbox_seqs(node)[len(in_backup):]
    # The restored hub answers `gap`; the node rewinds to the backup's end and sends the rest
    # again in several batches (7 does not divide 20: no batch ends where the old ack did).
    push_mod.push(node.store, client_of(node), max_changes=7)
    assert outbox_seqs(node) == resent            # what the backup held went: acknowledged 31 days ago
    assert node.query("SELECT acked_to FROM outbox_acks WHERE at < ?", [days_ago(30)]) == \
        [{"acked_to": in_backup[-1]}]
    assert {r["id"] for r in cluster.hub_query("SELECT id FROM checkins")} == \
        {r["id"] for r in node.query("SELECT id FROM checkins")}


def test_a_new_enrollment_forgets_every_acknowledgement(cluster):
    from fieldsync.sync import enrollment

    node = cluster.add_node(TOWN_A)
    write_long_ago(node)
    written = outbox_seqs(node)
    node.sync()
    date_acks(node, 31)
    with cluster.hub_store() as hub:
        enrollment.revoke(hub, node.node_id, actor="test")
    _, code = cluster.enrollment_code(TOWN_A, "the same laptop, enrolled again")
    enrollment.enroll(node.store, node.instance, cluster.hub.url, code)
    assert node.query("SELECT * FROM outbox_acks") == []
    node.sync()                                    # everything again, to a stream that is new
    assert outbox_seqs(node) == written


def test_rows_acknowledged_before_the_upgrade_are_kept_a_whole_period_from_it(tmp_path):
    db = connect(tmp_path / "old.db")
    core.apply(db, stop_before="m004_outbox_acks")
    db.execute("INSERT INTO sync_state (peer, last_acked_seq, clock_offset_ms) VALUES ('hub', 42, -3600000)")
    migrate(db)
    [(acked_to, at)] = db.execute("SELECT acked_to, at FROM outbox_acks").fetchall()
    hub_now = datetime.now(UTC) - timedelta(hours=1)
    assert acked_to == 42
    assert utc_text(hub_now - timedelta(minutes=1)) < at < utc_text(hub_now + timedelta(minutes=1))
    never_synced = connect(tmp_path / "new.db")
    migrate(never_synced)
    assert never_synced.execute("SELECT COUNT(*) FROM outbox_acks").fetchone()[0] == 0
