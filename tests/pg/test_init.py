"""`fieldsync init --hub --database URL` (decision 0300): a hub made on PostgreSQL serves and its
admin signs in; a database it cannot use is refused in one line, before config.toml names it;
a hub reopened by a later version applies only what is new, and once however many processes
open a fresh database together."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
from sqlite_utils.migrations import Migrations

from fieldsync.parts import MIGRATION_SETS
from fieldsync.store.pg import PgStore
from tests import backends
from tests.backends import postgres_url
from tests.support import LiveServer, WebClient, run_cli

PASSWORD = "a-long-passphrase"


def test_a_hub_made_on_postgresql_serves_and_its_admin_signs_in(tmp_path):
    instance = tmp_path / "hub"
    made = run_cli(instance, "init", "--hub", "--database", postgres_url(), "--password", PASSWORD)
    assert "Created a hub instance" in made.stdout
    assert 'database = "postgresql://' in (instance / "config.toml").read_text(encoding="utf-8")
    assert not (instance / "fieldsync.db").exists()   # the data is in PostgreSQL, not beside the keys
    with LiveServer(instance, hub=True) as server:
        assert WebClient(server.url).http.get(server.url + "/api/v1/health", timeout=10).ok
        admin = WebClient(server.url)
        signed_in = admin.login("admin", PASSWORD)
        assert signed_in.ok and not signed_in.url.endswith("/login"), signed_in.text[:300]


def refused(instance: Path, *args: str) -> subprocess.CompletedProcess:
    """init refused: one readable line, exit 1 or 2, no traceback, no config.toml written."""
    result = run_cli(instance, "init", *args, "--password", PASSWORD, check=False)
    assert result.returncode in (1, 2), result
    said = (result.stdout + result.stderr).strip()
    assert "Traceback" not in said and said.splitlines()[-1].startswith("Error:"), said
    assert not (instance / "config.toml").exists()
    return result


def test_database_without_hub_is_refused(tmp_path):
    said = refused(tmp_path / "node", "--database", postgres_url()).stderr
    assert "--database is for a hub" in said


def test_an_address_that_is_not_postgresql_is_refused(tmp_path):
    said = refused(tmp_path / "hub", "--hub", "--database", "mysql://root:s3cret@127.0.0.1/fieldsync").stderr
    assert "PostgreSQL address" in said and "s3cret" not in said


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]   # closed again when this returns: nothing listens there


def test_an_unreachable_server_is_refused_with_the_password_masked(tmp_path):
    url = f"postgresql://fieldsync:s3cret-pass@127.0.0.1:{_closed_port()}/hub"
    said = refused(tmp_path / "hub", "--hub", "--database", url).stderr
    assert "Cannot open the PostgreSQL database postgresql://fieldsync:***@127.0.0.1" in said
    assert "s3cret" not in said


def test_a_server_that_never_answers_is_given_up_in_bounded_time(tmp_path):
    """A port that takes the connection and says nothing (a firewall, a hung server): the
    connect timeout (here the address's own, 1 s) ends the wait; the password stays hidden."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)   # the kernel completes the handshake; nobody ever answers
        url = f"postgresql://fieldsync@127.0.0.1:{silent.getsockname()[1]}/hub?password=s3cret&connect_timeout=1"
        said = refused(tmp_path / "hub", "--hub", "--database", url).stderr
    assert "Cannot open the PostgreSQL database" in said and "s3cret" not in said


@pytest.fixture
def database_with_locale():
    """A database of this server made with the given collation and character type (C.UTF-8:
    code-point order in glibc, but not the C that PostgreSQL compares byte by byte)."""
    made: list[str] = []

    def make(collate: str, ctype: str) -> str:
        postgres_url()   # skips (or fails under FIELDSYNC_REQUIRE_POSTGRES) without a server
        name = f"fs_locale_{len(made)}_{os.getpid()}"
        with psycopg.connect(backends.ADMIN_URL, autocommit=True) as admin:
            try:
                admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
                              f" LC_COLLATE '{collate}' LC_CTYPE '{ctype}'")
            except psycopg.Error as exc:
                pytest.skip(f"this machine has no {collate}/{ctype} locale for PostgreSQL: {exc}")
        made.append(name)
        return backends.ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield make
    with psycopg.connect(backends.ADMIN_URL, autocommit=True) as admin:
        for name in made:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize(("collate", "ctype"), [("C.UTF-8", "C.UTF-8"), ("C", "C.UTF-8")])
def test_a_database_that_does_not_sort_and_fold_as_sqlite_is_refused(tmp_path, database_with_locale, collate, ctype):
    said = refused(tmp_path / "hub", "--hub", "--database", database_with_locale(collate, ctype)).stderr
    assert "must use UTF8 and the C collation" in said and "C.UTF-8" in said
    assert "createdb -T template0 -E UTF8 --locale=C" in said


# -- migrations on a hub that exists ------------------------------------------------------------

def _applied(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY migration_set, name").fetchall()


def test_a_later_version_applies_only_its_pending_migrations(tmp_path):
    url = postgres_url()
    PgStore(url, tmp_path / "fieldsync.db", migrations=MIGRATION_SETS).close()
    before = _applied(url)
    later = Migrations("later_version")

    @later()
    def m001_notes(db):
        db.executescript("CREATE TABLE later_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
                         "INSERT INTO later_notes (body) VALUES ('made once');")

    for _ in range(2):   # the second opening finds nothing left to do
        store = PgStore(url, tmp_path / "fieldsync.db", migrations=[*MIGRATION_SETS, later])
        assert store.db.execute("SELECT body FROM later_notes").fetchall() == [("made once",)]
        store.close()
    assert _applied(url) == sorted([*before, ("later_version", "m001_notes")])


OPEN_ONCE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fieldsync.parts import open_store
    go = Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.01)
    open_store(Path(sys.argv[2]) / "fieldsync.db", hub=True, database=sys.argv[1]).close()
""")


def test_two_processes_opening_a_fresh_database_together_migrate_it_once(tmp_path):
    url, go = postgres_url(), tmp_path / "go"
    openers = [subprocess.Popen([sys.executable, "-c", OPEN_ONCE, url, str(tmp_path / f"hub{n}"), str(go)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(2)]
    go.touch()   # both start at once
    for opener in openers:
        _, err = opener.communicate(timeout=120)
        assert opener.returncode == 0, err
    applied = _applied(url)
    assert len(applied) == len(set(applied)) == sum(len(m._migrations) for m in MIGRATION_SETS)


def test_every_session_runs_in_utc_with_ssd_costs_and_the_address_options_win(tmp_path):
    """The hub's sessions read times in UTC and cost random reads as on SSD (the planner then
    reads one batch's sessions by index, not the whole checkins table); settings the address
    gives in its own `options` are kept and win over ours."""
    from urllib.parse import quote

    def settings(url: str) -> tuple[str, str, str]:
        store = PgStore(url, tmp_path / "fieldsync.db", migrations=MIGRATION_SETS, pool_size=2)
        try:
            return tuple(store.db.execute("SELECT current_setting('TimeZone'), current_setting('random_page_cost'),"
                                          " current_setting('work_mem')").fetchone())
        finally:
            store.close()

    url = postgres_url()
    assert settings(url)[:2] == ("UTC", "1.1")
    own = quote("-c random_page_cost=2 -c work_mem=8MB")
    assert settings(f"{url}?options={own}") == ("UTC", "2", "8MB")


def test_a_server_older_than_the_functions_need_is_refused_in_words(tmp_path, monkeypatch):
    """A server without SQL-standard function bodies (before 14) is refused before anything is
    made, with its version named; here the least version is raised above this server's."""
    from fieldsync.errors import BadRequest
    from fieldsync.store import pg_pool

    url = postgres_url()
    pg_pool.check_database(url)   # this server will do
    monkeypatch.setattr(pg_pool, "MIN_SERVER_VERSION", 99_0000)
    with pytest.raises(BadRequest) as refused:
        pg_pool.check_database(url)
    assert refused.value.code == "bad_setting" and "needs PostgreSQL 14 or later" in str(refused.value)
    with psycopg.connect(url) as conn:
        assert f"version {conn.info.server_version // 10000}." in str(refused.value)
