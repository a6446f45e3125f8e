"""USB bundles: signed, and importing one does exactly what a push does."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from fieldsync.errors import Forbidden
from tests.backends import copy_instance
from tests.support import WebClient, run_cli
from tests.sync.conftest import TOWN_A
from tests.sync.test_push import scan_everyone

COMPARED = {
    "checkins": "SELECT * FROM checkins ORDER BY id",
    "people": "SELECT id, name, phone, town, village, level, status, hlc, field_hlcs FROM people ORDER BY id",
    "sessions": "SELECT id, title, town, starts_at, hlc, field_hlcs FROM sessions ORDER BY id",
    "acks": "SELECT from_seq, to_seq, digest, json_extract(ack, '$.accepted') AS accepted,"
            " json_extract(ack, '$.duplicates') AS duplicates FROM batches ORDER BY from_seq",
    "high_water": "SELECT high_water FROM streams",
}


def snapshot(query) -> dict:
    return {name: query(sql) for name, sql in COMPARED.items()}


def test_importing_a_bundle_equals_pushing_the_same_changes(cluster, tmp_path):
    node = cluster.add_node(TOWN_A)
    node.sync()
    scan_everyone(node, limit=25)
    cluster.hub.stop()
    twin = tmp_path / "twin-hub"                  # the same hub, twice: one gets the push, one the bundle
    copy_instance(cluster.hub.instance, twin)
    cluster.hub.start()
    node.close_store()
    bundle = tmp_path / "stick" / "zhangcun.fsb"
    bundle.parent.mkdir()
    exported = run_cli(node.instance, "bundle", "export", str(bundle))
    assert "changes in 1 batch to" in exported.stdout
    imported = run_cli(twin, "bundle", "import", str(bundle))
    assert "25 records added" in imported.stdout
    node.sync()                                   # the same changes, pushed
    with_bundle = snapshot(lambda sql: _query(twin, sql))
    with_push = snapshot(cluster.hub_query)
    assert with_bundle == with_push and len(with_push["checkins"]) > 25
    again = run_cli(twin, "bundle", "import", str(bundle))
    assert "(1 imported before), 0 records added" in again.stdout   # a replay: nothing written twice
    assert snapshot(lambda sql: _query(twin, sql)) == with_bundle


def _query(instance, sql):
    from fieldsync.parts import open_store

    with open_store(instance / "fieldsync.db") as store:
        return store.query(sql)


def import_into(instance, bundle, **options) -> dict:
    from fieldsync.parts import open_store
    from fieldsync.sync import bundles

    with open_store(instance / "fieldsync.db") as store, bundle.open("rb") as source:
        return bundles.import_bundle(store, source, actor="test", **options)


def test_a_bundle_that_skips_ahead_is_a_gap_and_an_altered_one_is_refused(cluster, tmp_path):
    from fieldsync.errors import BadRequest, Conflict, Forbidden
    from fieldsync.sync import bundles

    node = cluster.add_node(TOWN_A)
    cluster.hub.stop()
    before = tmp_path / "hub-before"              # the hub as it was before this laptop's first sync
    copy_instance(cluster.hub.instance, before)
    cluster.hub.start()
    first, second = tmp_path / "1.fsb", tmp_path / "2.fsb"
    bundles.export(node.store, node.instance, first)
    node.sync()                                   # acknowledged: the next bundle starts after it
    scan_everyone(node, limit=5)
    bundles.export(node.store, node.instance, second)
    with pytest.raises(Conflict, match="send again from 1"):
        import_into(before, second)
    import_into(before, first)
    assert import_into(before, second)["accepted"] == 5
    text = gzip.decompress(first.read_bytes()).replace(b'"op":"upsert"', b'"op":"delete"', 1)
    altered = tmp_path / "altered.fsb"
    altered.write_bytes(gzip.compress(text))
    with pytest.raises(Forbidden, match="signature does not match"):
        import_into(before, altered)
    not_gzip = tmp_path / "junk.fsb"
    not_gzip.write_bytes(b"hello")
    with pytest.raises(BadRequest, match="not a fieldsync bundle"):
        import_into(before, not_gzip)


def test_a_revoked_laptops_bundle_needs_an_admins_override_on_the_upload_page(cluster, tmp_path):
    from fieldsync.sync import bundles, enrollment

    node = cluster.add_node(TOWN_A)
    scan_everyone(node, limit=4)
    bundle = tmp_path / "last-words.fsb"
    bundles.export(node.store, node.instance, bundle)
    with cluster.hub_store() as store:
        enrollment.revoke(store, node.node_id, actor="test")
    admin = WebClient(cluster.hub.url)
    assert admin.login("admin").ok
    admin.get("/hub/bundle")

    def upload(**form):
        with bundle.open("rb") as fh:
            return admin.form("/hub/bundle", form, files={"bundle": ("last-words.fsb", fh)}, timeout=120)

    refused = upload()
    assert refused.status_code == 403 and "须由管理员确认导入" in refused.text
    done = upload(override="yes")
    assert done.status_code == 200 and 'id="bundle-summary"' in done.text
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM checkins")[0]["n"] == \
        node.query("SELECT COUNT(*) AS n FROM checkins")[0]["n"]
    trail = cluster.hub_query("SELECT detail FROM sync_audit WHERE action = 'bundle_imported'")
    assert "override" in trail[0]["detail"]
    staff = WebClient(cluster.hub.url)
    assert staff.login("staff").ok
    assert staff.get("/hub/bundle").status_code == 403


# -- a hostile USB stick ------------------------------------------------------------------------
class CountingFile:
    """A bundle file that counts the bytes the importer takes from it."""

    def __init__(self, path: Path):
        self.file, self.read_bytes = path.open("rb"), 0

    def read(self, size=-1) -> bytes:
        data = self.file.read(size)
        self.read_bytes += len(data)
        return data

    def seek(self, *args):
        return self.file.seek(*args)

    def tell(self):
        return self.file.tell()

    def close(self):
        self.file.close()


def _forged_head(node_id: str, body_bytes: int, body_lines: int) -> bytes:
    """What a stick made without the laptop's key can write: a plausible header, a made-up signature."""
    header = {"format": "fieldsync-bundle", "version": 2, "node_id": node_id, "town": TOWN_A, "origin": "x",
              "replica": "0" * 16, "created_at": "2025-05-28T09:00:00Z",
              "body": {"sha256": "0" * 64, "bytes": body_bytes, "lines": body_lines}}
    return (json.dumps(header) + "\n" + json.dumps({"signature": base64.b64encode(b"\1" * 64).decode()})
            + "\n").encode()


def _bomb(mebibytes: int) -> bytes:
    """gzip members of 1 MiB of newlines each: about 1 KiB on the stick per MiB inflated."""
    member = gzip.compress(b"\n" * 1024 * 1024, 9)
    return member * mebibytes


def _import_counting(instance: Path, path: Path):
    from fieldsync.parts import open_store
    from fieldsync.sync import bundles

    source = CountingFile(path)
    try:
        with open_store(instance / "fieldsync.db") as store, pytest.raises(Forbidden) as refused:
            bundles.import_bundle(store, source, actor="test")
    finally:
        source.close()
    return refused.value, source.read_bytes


def test_a_stick_of_8_mib_of_newlines_is_refused_after_its_first_lines(cluster, tmp_path):
    node = cluster.add_node(TOWN_A)
    stick = tmp_path / "newlines.fsb"
    newlines = 8 * 1024 * 1024
    stick.write_bytes(gzip.compress(_forged_head(node.node_id, newlines, newlines) + b"\n" * newlines, 0))
    refused, read = _import_counting(cluster.hub.instance, stick)
    assert refused.code == "bad_signature"
    assert read < 128 * 1024 < stick.stat().st_size // 64       # the importer never reads the body
    answer = run_cli(cluster.hub.instance, "bundle", "import", str(stick), check=False)
    assert answer.returncode == 1 and "Traceback" not in answer.stderr
    assert "signature does not match" in answer.stderr


def test_a_gzip_bomb_is_refused_unread_whether_forged_or_behind_a_signed_bundle(cluster, tmp_path):
    from fieldsync.sync import bundles

    node = cluster.add_node(TOWN_A)
    forged = tmp_path / "forged-bomb.fsb"
    forged.write_bytes(gzip.compress(_forged_head(node.node_id, 1, 1)) + _bomb(1024))   # 1 GiB inflated
    refused, read = _import_counting(cluster.hub.instance, forged)
    assert refused.code == "bad_signature" and read < 64 * 1024
    signed = tmp_path / "signed.fsb"
    bundles.export(node.store, node.instance, signed)
    real = signed.stat().st_size
    with signed.open("ab") as stick:                 # a real bundle, and a bomb after what it signed
        stick.write(_bomb(1024))
    refused, read = _import_counting(cluster.hub.instance, signed)
    assert refused.code == "bad_signature" and read < real + 64 * 1024
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM batches")[0]["n"] == 0      # nothing applied


def test_a_bundle_whose_body_is_not_what_its_header_signs_is_refused_before_anything_applies(cluster, tmp_path):
    from fieldsync.sync import bundles

    node = cluster.add_node(TOWN_A)
    bundle = tmp_path / "real.fsb"
    bundles.export(node.store, node.instance, bundle)
    head, signature, *body = gzip.decompress(bundle.read_bytes()).splitlines(keepends=True)
    assert json.loads(head)["body"]["lines"] == len(body) >= 1
    for name, lines in {"a batch dropped": body[1:], "a batch twice": body + body[-1:],
                        "a blank line added": [*body, b"\n"], "cut short": [body[0][:-40]]}.items():
        altered = tmp_path / f"{name}.fsb"
        altered.write_bytes(gzip.compress(head + signature + b"".join(lines)))
        refused, _ = _import_counting(cluster.hub.instance, altered)
        assert refused.code == "bad_signature", name
    assert cluster.hub_query("SELECT COUNT(*) AS n FROM batches")[0]["n"] == 0


def test_a_bundle_of_the_old_format_gets_a_plain_answer(cluster, tmp_path):
    from fieldsync.errors import BadRequest

    node = cluster.add_node(TOWN_A)
    old = tmp_path / "old.fsb"
    old.write_bytes(gzip.compress(json.dumps({"format": "fieldsync-bundle", "version": 1,
                                              "node_id": node.node_id}).encode() + b"\n"))
    with pytest.raises(BadRequest, match="older fieldsync") as refused:
        import_into(cluster.hub.instance, old)
    assert refused.value.code == "bundle_version"
