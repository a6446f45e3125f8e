"""What a fresh instance leaves on disk for other accounts on the laptop to read: nothing.
The database (and its -wal and -shm files) and the keys are the owner's alone."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from tests.support import run_cli


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("command", [("demo",), ("init", "--admin", "chief", "--password", "a-long-passphrase")])
def test_a_fresh_instance_keeps_its_database_and_keys_to_its_owner(tmp_path, command):
    instance = tmp_path / "instance"
    run_cli(instance, *command)
    reader = sqlite3.connect(instance / "fieldsync.db")   # WAL: a reader opens the -wal and -shm files
    try:
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        private = {path.name: stat.S_IMODE(path.stat().st_mode) for path in instance.iterdir()
                   if path.name.startswith("fieldsync.db") or path.suffix == ".key"}
    finally:
        reader.close()
    assert {"fieldsync.db", "fieldsync.db-wal", "fieldsync.db-shm"} <= set(private)
    assert private == dict.fromkeys(private, 0o600)
