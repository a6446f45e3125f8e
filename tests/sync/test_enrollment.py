"""Enrollment with one-time codes, tokens kept as hashes, badge key ids from the hub, revocation."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from fieldsync.parts import open_store
from fieldsync.records import badges, checkins
from fieldsync.sync import enrollment
from fieldsync.sync.upstream.client import HubClient, HubError
from tests.backends import copy_instance
from tests.support import run_cli
from tests.sync.conftest import TOWN_A, TOWN_B, _new_identity
from tests.sync.proxy import Fault, FaultProxy


def _stored_bytes(hub: Path) -> bytes:
    """All a hub keeps on disk: its database file and journal, or its PostgreSQL database dumped."""
    database = tomllib.loads((hub / "config.toml").read_text(encoding="utf-8")).get("database")
    if database:
        return subprocess.run(["pg_dump", "--data-only", database], capture_output=True, check=True,
                              timeout=120).stdout
    return (hub / "fieldsync.db").read_bytes() + (hub / "fieldsync.db-wal").read_bytes()


def test_enroll_from_the_command_line_keeps_the_token_private_and_the_hub_only_a_hash(cluster, demo_template, tmp_path):
    added = run_cli(cluster.hub.instance, "nodes", "add", "--town", TOWN_A, "--name", "张村办公室",
                    "--hub-url", cluster.hub.url)
    code = added.stdout.split("Enrollment code: ")[1].split()[0]
    assert f"fieldsync enroll {cluster.hub.url} {code}" in added.stdout
    laptop = tmp_path / "laptop"
    copy_instance(demo_template, laptop)
    enrolled = run_cli(laptop, "enroll", cluster.hub.url, code.lower().replace("-", " "))
    assert "Enrolled as 张村办公室 for 张村镇" in enrolled.stdout
    creds_file = laptop / enrollment.CREDENTIALS_FILE
    assert stat.S_IMODE(os.stat(creds_file).st_mode) == 0o600
    token = enrollment.credentials(laptop).token
    hub_db = _stored_bytes(cluster.hub.instance)
    assert token.encode() not in hub_db and code.replace("-", "").encode() not in hub_db
    synced = run_cli(laptop, "sync")
    assert synced.stdout.startswith("Pushed ") and "0 rejected" in synced.stdout
    listed = run_cli(cluster.hub.instance, "nodes", "list").stdout
    assert "张村办公室" in listed and "enrolled" in listed
    again = run_cli(laptop, "enroll", cluster.hub.url, code, check=False)   # spent once the laptop synced
    assert again.returncode == 1 and "not valid" in again.stderr and "Traceback" not in again.stderr


def test_an_expired_code_is_refused(cluster, demo_template, tmp_path):
    _, code = cluster.enrollment_code(TOWN_A, "late")
    with cluster.hub_store() as store:
        store.write(lambda db: db.execute("UPDATE nodes SET code_expires_at = '2000-01-01T00:00:00Z'"))
    laptop = tmp_path / "laptop"
    copy_instance(demo_template, laptop)
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


def _unenrolled_copy_of_a_laptop(cluster, tmp_path) -> tuple:
    """Enrolled laptop A, a copy of its instance without the credentials, and a fresh code."""
    a = cluster.add_node(TOWN_A)
    a.close_store()
    copy = tmp_path / "copy"
    copy_instance(a.instance, copy)
    (copy / enrollment.CREDENTIALS_FILE).unlink()
    return a, copy, cluster.enrollment_code(TOWN_A, "copy")[1]


def test_a_copy_of_an_enrolled_laptop_cannot_enroll_as_a_second_one_until_the_first_is_revoked(cluster, tmp_path):
    a, copy, code = _unenrolled_copy_of_a_laptop(cluster, tmp_path)
    with open_store(copy / "fieldsync.db") as store, pytest.raises(HubError) as refused:
        enrollment.enroll(store, copy, cluster.hub.url, code)
    assert (refused.value.status, refused.value.code) == (409, "origin_taken")
    assert "belongs to the enrolled laptop node1" in refused.value.message
    with cluster.hub_store() as hub:
        enrollment.revoke(hub, a.node_id, actor="test")
    _, code = cluster.enrollment_code(TOWN_A, "copy")
    with open_store(copy / "fieldsync.db") as store:
        assert enrollment.enroll(store, copy, cluster.hub.url, code)["name"] == "copy"


# -- an answer lost on a bad link ---------------------------------------------------------------
def _laptop(template: Path, target: Path) -> Path:
    """A laptop of its own: a copy of the template with its own database id and replica."""
    copy_instance(template, target)
    _new_identity(target / "fieldsync.db")
    return target


def test_an_enroll_answer_lost_on_the_way_is_asked_for_again_with_the_same_code(cluster, empty_template,
                                                                                 tmp_path):
    record, code = cluster.enrollment_code(TOWN_A, "张村办公室")
    laptop = _laptop(empty_template, tmp_path / "laptop")
    with FaultProxy(cluster.hub.port) as proxy:
        proxy.plan(Fault.reset_response(after=0))      # the hub enrolls it; the answer never arrives
        lost = run_cli(laptop, "enroll", proxy.url, code, check=False)
        assert lost.returncode == 1 and "Traceback" not in lost.stderr
        assert "same code" in lost.stderr
        assert cluster.hub_query("SELECT enrolled_at FROM nodes WHERE id = ?", [record["id"]])[0]["enrolled_at"]
        assert not (laptop / enrollment.CREDENTIALS_FILE).exists()
        enrolled = run_cli(laptop, "enroll", proxy.url, code)
        assert "Enrolled as 张村办公室" in enrolled.stdout and record["id"] in enrolled.stdout
        assert enrollment.credentials(laptop).node_id == record["id"]
        synced = run_cli(laptop, "sync")                 # with the token the hub knows now
        assert synced.stdout.startswith("Pushed ") and "0 rejected" in synced.stdout
    assert "pulled 0 changes" not in synced.stdout       # it got its town's roster
    audit = [r["action"] for r in cluster.hub_query("SELECT action FROM sync_audit WHERE target = ?"
                                                    " ORDER BY id", [record["id"]])]
    assert audit[-2:] == ["node_enrolled", "node_enrolled_again"]


def test_another_laptop_cannot_take_a_code_another_laptop_redeemed(cluster, empty_template, tmp_path):
    _, code = cluster.enrollment_code(TOWN_A, "张村办公室")
    first = _laptop(empty_template, tmp_path / "first")
    run_cli(first, "enroll", cluster.hub.url, code)
    token = enrollment.credentials(first).token
    other = _laptop(empty_template, tmp_path / "other")    # its own keys, made on its first enroll
    refused = run_cli(other, "enroll", cluster.hub.url, code, check=False)
    assert refused.returncode == 1 and "not valid" in refused.stderr and "Traceback" not in refused.stderr
    assert not (other / enrollment.CREDENTIALS_FILE).exists()
    with open_store(other / "fieldsync.db") as store:             # its key, but the first laptop's public key
        request = enrollment.enrollment_request(store, other, code)
    stolen = {**request, "bundle_public_key": enrollment.public_b64(enrollment.bundle_key(first))}
    with pytest.raises(HubError) as forged:
        HubClient(cluster.hub.url).enroll(stolen)
    assert (forged.value.status, forged.value.code) == (403, "bad_enrollment_proof")
    assert enrollment.credentials(first).token == token
    assert run_cli(first, "sync").stdout.startswith("Pushed ")      # its token still works


def test_a_409_cut_off_on_the_way_is_told_in_plain_words(cluster, tmp_path):
    _, copy, code = _unenrolled_copy_of_a_laptop(cluster, tmp_path)
    with open_store(copy / "fieldsync.db") as store:
        request = enrollment.enrollment_request(store, copy, code)
    head = _response_head_length(cluster.hub.port, request)   # the same 409 the command will get
    with FaultProxy(cluster.hub.port) as proxy:
        proxy.plan(Fault.truncate_response(after=head + 10))
        refused = run_cli(copy, "enroll", proxy.url, code, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr and "{" not in refused.stderr
    assert "answered 409 (Conflict), but the rest of its answer was cut off" in refused.stderr


def _response_head_length(port: int, request: dict) -> int:
    body = json.dumps({**request, "protocol": 1}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/sync/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nFieldsync-Protocol: 1\r\n"
                     b"Content-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 409")
    return answer.index(b"\r\n\r\n") + 4
