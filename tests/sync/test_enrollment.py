"""Enrollment with one-time codes, tokens kept as hashes, badge key ids from the hub, revocation."""

from __future__ import annotations

import os
import shutil
import stat

from fieldsync.records import badges, checkins
from fieldsync.sync import enrollment
from tests.support import run_cli
from tests.sync.conftest import TOWN_A, TOWN_B


def test_enroll_from_the_command_line_keeps_the_token_private_and_the_hub_only_a_hash(cluster, demo_template, tmp_path):
    added = run_cli(cluster.hub.instance, "nodes", "add", "--town", TOWN_A, "--name", "张村办公室",
                    "--hub-url", cluster.hub.url)
    code = added.stdout.split("Enrollment code: ")[1].split()[0]
    assert f"fieldsync enroll {cluster.hub.url} {code}" in added.stdout
    laptop = tmp_path / "laptop"
    shutil.copytree(demo_template, laptop)
    enrolled = run_cli(laptop, "enroll", cluster.hub.url, code.lower().replace("-", " "))
    assert "Enrolled as 张村办公室 for 张村镇" in enrolled.stdout
    creds_file = laptop / enrollment.CREDENTIALS_FILE
    assert stat.S_IMODE(os.stat(creds_file).st_mode) == 0o600
    token = enrollment.credentials(laptop).token
    hub_db = (cluster.hub.instance / "fieldsync.db").read_bytes() + \
        (cluster.hub.instance / "fieldsync.db-wal").read_bytes()
    assert token.encode() not in hub_db and code.replace("-", "").encode() not in hub_db
    again = run_cli(laptop, "enroll", cluster.hub.url, code, check=False)
    assert again.returncode == 1 and "not valid" in again.stderr and "Traceback" not in again.stderr
    synced = run_cli(laptop, "sync")
    assert synced.stdout.startswith("Pushed ") and "0 rejected" in synced.stdout
    listed = run_cli(cluster.hub.instance, "nodes", "list").stdout
    assert "张村办公室" in listed and "enrolled" in listed


def test_an_expired_code_is_refused(cluster, demo_template, tmp_path):
    _, code = cluster.enrollment_code(TOWN_A, "late")
    with cluster.hub_store() as store:
        store.write(lambda db: db.execute("UPDATE nodes SET code_expires_at = '2000-01-01T00:00:00Z'"))
    laptop = tmp_path / "laptop"
    shutil.copytree(demo_template, laptop)
    refused = run_cli(laptop, "enroll", cluster.hub.url, code, check=False)
    assert refused.returncode == 1 and "expired" in refused.stderr


def test_a_revoked_laptop_is_told_so_and_wipes_the_people_it_pulled(cluster):
    a = cluster.add_node(TOWN_A)
    a.sync()
    fresh = cluster.add_node(TOWN_A, name="fresh", empty=True)
    fresh.sync()
    assert fresh.query("SELECT COUNT(*) AS n FROM people")[0]["n"] > 0
    checkins.check_in(fresh.store, session_id=fresh.query("SELECT id FROM sessions LIMIT 1")[0]["id"],
                      person_id=fresh.query("SELECT id FROM people LIMIT 1")[0]["id"], station="gate")
    fresh.close_store()
    run_cli(cluster.hub.instance, "nodes", "revoke", fresh.node_id)
    refused = run_cli(fresh.instance, "sync", check=False)
    assert refused.returncode == 1
    assert "was revoked by the city association" in refused.stderr and "Traceback" not in refused.stderr
    assert fresh.query("SELECT COUNT(*) AS n FROM people")[0]["n"] == 0
    status = fresh.query("SELECT last_error FROM sync_state WHERE peer = 'hub'")[0]["last_error"]
    assert "node_revoked" in status
    assert a.sync()["pushed"] == 0                      # other laptops are not affected


def test_the_hub_assigns_badge_key_ids_and_badges_printed_before_enrollment_still_verify(cluster):
    printed = {}

    def print_badge_before_enrollment(store):
        person = store.query_one("SELECT * FROM people ORDER BY id LIMIT 1")
        printed["code"], printed["person"] = badges.issue(store, person), person["id"]
        printed["local_key"] = badges.signing_key(store)[0]

    a = cluster.add_node(TOWN_A, prepare=print_badge_before_enrollment)
    assert printed["local_key"] >= 0x8000
    key_id = int(a.query("SELECT value FROM meta WHERE key = 'badge_key_id'")[0]["value"])
    assert 1 <= key_id < 0x8000
    assert {r["key_id"] for r in a.query("SELECT key_id FROM badge_keys")} >= {key_id, printed["local_key"]}
    after = badges.issue(a.store, a.store.query_one("SELECT * FROM people ORDER BY id LIMIT 1 OFFSET 1"))
    a.sync()
    b = cluster.add_node(TOWN_B)
    b.sync()
    session = b.query("SELECT id FROM sessions ORDER BY starts_at DESC LIMIT 1")[0]["id"]
    for code in (printed["code"], after):
        result = checkins.check_in(b.store, session_id=session, code=code, station="gate")
        assert result.status == checkins.OK, result.reason
        assert "foreign" in result.checkin["flags"]      # a badge from another town: the hub names them


def test_a_copy_of_an_enrolled_laptop_cannot_enroll_as_a_second_one_until_the_first_is_revoked(cluster, tmp_path):
    import pytest

    from fieldsync.store import Store
    from fieldsync.sync.client import HubError

    a = cluster.add_node(TOWN_A)
    a.close_store()
    copy = tmp_path / "copy"
    shutil.copytree(a.instance, copy)
    (copy / enrollment.CREDENTIALS_FILE).unlink()
    _, code = cluster.enrollment_code(TOWN_A, "copy")
    with Store(copy / "fieldsync.db") as store, pytest.raises(HubError) as refused:
        enrollment.enroll(store, copy, cluster.hub.url, code)
    assert (refused.value.status, refused.value.code) == (409, "origin_taken")
    assert "belongs to the enrolled laptop node1" in refused.value.message
    with cluster.hub_store() as hub:
        enrollment.revoke(hub, a.node_id, actor="test")
    _, code = cluster.enrollment_code(TOWN_A, "copy")
    with Store(copy / "fieldsync.db") as store:
        assert enrollment.enroll(store, copy, cluster.hub.url, code)["name"] == "copy"
