"""Which database the tests' hubs keep their data in (decision 0300).

By default a hub is a SQLite file in its instance folder. With FIELDSYNC_TEST_BACKEND=postgresql
every hub the tests make gets a PostgreSQL database of its own on the server at
FIELDSYNC_TEST_POSTGRES (an address that may create databases; `.ci/postgres start` prints one),
and copying a hub's folder copies its database too. Laptops stay on SQLite either way.

Tests that need PostgreSQL whatever the backend use `postgres_url()`: it skips them when no
server answers, unless FIELDSYNC_REQUIRE_POSTGRES=1 (CI), which makes that a failure.

The PostgreSQL pass (`make test` runs the hub suites again with FIELDSYNC_TEST_BACKEND=postgresql)
keeps only the tests that make or open a hub (`needs_a_hub`): one whose fixtures reach a hub
template (HUB_TEMPLATES: every hub fixture is a copy of one), or one marked `hub` (it makes its
hub itself, through `run_cli(..., "init", "--hub")` or `save_hub_config`). The others (a laptop on
its own, the laptop's code alone, the node's command line) would run the same twice; they are
deselected there. So that no hub test is lost, the SQLite pass fails a test that makes a hub
through hub_database() or copies one with copy_instance() and is neither (tests/conftest.py).
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from fieldsync import config

ADMIN_URL = os.environ.get("FIELDSYNC_TEST_POSTGRES", "")
HUBS_ON_POSTGRES = os.environ.get("FIELDSYNC_TEST_BACKEND", "sqlite") == "postgresql"
REQUIRED = os.environ.get("FIELDSYNC_REQUIRE_POSTGRES") == "1"
_made: list[str] = []
_numbers = itertools.count(1)

# The session's hub templates: a test whose fixtures reach one of them gets a hub on PostgreSQL.
HUB_TEMPLATES = frozenset({"hub_template", "city_template"})


def needs_a_hub(item: pytest.Item) -> bool:
    """Whether the test makes or opens a hub (a hub template among its fixtures, or marked `hub`)."""
    return bool(HUB_TEMPLATES.intersection(getattr(item, "fixturenames", ()))) or \
        item.get_closest_marker("hub") is not None


class HubSeen:
    """Whether the running test made a hub itself (hub_database()) or copied one (copy_instance())."""

    seen = False
    building_template = False   # a template's making is the test's fixtures', seen by needs_a_hub


def postgres_suites(makefile: Path = Path(__file__).parent.parent / "Makefile") -> tuple[str, ...]:
    """The paths the PostgreSQL pass runs: the Makefile's POSTGRES_SUITES (empty without it)."""
    text = makefile.read_text(encoding="utf-8") if makefile.exists() else ""
    found = re.search(r"^POSTGRES_SUITES \?=((?:.*\\\n)*.*)$", text, re.MULTILINE)
    return tuple(found.group(1).replace("\\\n", " ").split()) if found else ()


_SUITES = postgres_suites()


def in_postgres_suites(item: pytest.Item) -> bool:
    path = item.nodeid.split("::")[0]
    return any(path == suite or path.startswith(suite.rstrip("/") + "/") for suite in _SUITES)


def _saw_a_hub() -> None:
    if not HubSeen.building_template:
        HubSeen.seen = True


def _admin():
    import psycopg

    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


def available() -> bool:
    if not ADMIN_URL:
        return False
    try:
        with _admin():
            return True
    except Exception:   # noqa: BLE001 -- any failure to connect means: not here
        return False


def postgres_url() -> str:
    """The address of a new, empty database; skips (fails under FIELDSYNC_REQUIRE_POSTGRES=1)
    when there is no server."""
    if not available():
        message = "no PostgreSQL server: set FIELDSYNC_TEST_POSTGRES (.ci/postgres start prints it)"
        if REQUIRED or HUBS_ON_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return new_database()


def _url(name: str) -> str:
    return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", ADMIN_URL.split("://", 1)[1], count=1).join(
        [ADMIN_URL.split("://", 1)[0] + "://", ""])


def new_database(template: str | None = None) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"fs_{worker}_{os.getpid()}_{next(_numbers)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    _made.append(name)
    return _url(name)


def clone(url: str) -> str:
    """A copy of the database at url: from it as a template when nothing is connected to it,
    else through pg_dump (a live hub keeps serving while it is copied)."""
    source = url.rsplit("/", 1)[1].split("?")[0]
    try:
        return new_database(template=source)
    except Exception:   # noqa: BLE001 -- in use: copy it the slow way
        target = new_database()
        dump = subprocess.run(["pg_dump", "--no-owner", url], capture_output=True, check=True, timeout=120)
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target], input=dump.stdout, capture_output=True,
                       check=True, timeout=120)
        return target


def hub_database() -> str | None:
    """The database a new test hub gets: None (its own SQLite file) unless hubs run on PostgreSQL."""
    _saw_a_hub()
    return postgres_url() if HUBS_ON_POSTGRES else None


def save_hub_config(path: Path, **values) -> None:
    """config.save(path, mode="hub", …), with a database of its own under the PostgreSQL backend."""
    config.save(path, mode="hub", database=hub_database(), **values)


def copy_instance(source: Path, target: Path) -> Path:
    """shutil.copytree for an instance folder, its PostgreSQL database copied too."""
    copied = Path(shutil.copytree(source, target))
    toml = copied / "config.toml"
    if toml.exists():
        settings = tomllib.loads(toml.read_text(encoding="utf-8"))
        if settings.get("mode") == "hub":
            _saw_a_hub()
        database = settings.get("database")
        if database:
            config.save(copied, database=clone(database))
    return copied


@atexit.register
def _drop_made() -> None:
    if not _made:
        return
    try:
        with _admin() as conn:
            for name in _made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:   # noqa: BLE001, S110 -- a throwaway cluster: what stays goes with it
        pass
