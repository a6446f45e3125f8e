"""A hub gives the same figures on PostgreSQL as on SQLite (decision 0320): every report file, every
page and every API answer a signed-in admin reads. The city is built once on SQLite and copied row
for row into a PostgreSQL database (rowids and stamps alike), so whatever differs is the backend's:
a type (1 or True, 2 or 2.0), an order (where NULLs go), a rounding."""

from __future__ import annotations

import difflib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from fieldsync import config, hub_move
from fieldsync.parts import open_store
from fieldsync.records import badges
from fieldsync.reports import csv_export, registry
from tests.backends import HUBS_ON_POSTGRES, postgres_url
from tests.reports import fixture
from tests.support import in_process

YEAR = 2024
UNITS = (fixture.CITY, fixture.C1, fixture.C2, fixture.T1, fixture.T2, fixture.T3)
# Pages whose answer is not the data's: signing in and out, the sync endpoint (a laptop's token).
SKIPPED = {"static", "auth.login", "auth.logout", "sync_hub.pull", "stations.join"}
# What each page argument takes: the city's records by their fixture names (a PDF, slow to make
# and compared only by its status, the first of them).
ARGUMENTS = {"person_id": ("p1", "p4", "p9"), "session_id": ("s1", "s3", "s4", "s6", "s7", "s8"), "year": (YEAR,)}
# Per request, not per database: the CSRF token, a script's nonce, a new form's submission id.
PER_REQUEST = re.compile(r'(name="csrf_token" value=|name="csrf-token" content=|nonce=|name="submission_id" value=)'
                         r'"[^"]*"')


def _sqlite_city(request, tmp_path_factory) -> tuple[Path, dict]:
    if not HUBS_ON_POSTGRES:
        return request.getfixturevalue("city_template")
    path = tmp_path_factory.mktemp("city-sqlite")
    config.save(path, mode="hub")
    return path, fixture.fill_instance(path)


def _copied_to_postgres(source: Path, target: Path, url: str) -> Path:
    """The SQLite hub's folder (its keys) with its database copied into the PostgreSQL one at url."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("fieldsync.db*"))
    lite = sqlite3.connect(source / "fieldsync.db")
    hub_move.copy_into(lite, url)
    lite.close()
    config.save(target, database=url)
    return target


@pytest.fixture(scope="module")
def twins(request, tmp_path_factory):
    """(SQLite site, PostgreSQL site) of one city, each with an admin signed in."""
    url = postgres_url()   # first: no server, nothing built
    source, ids = _sqlite_city(request, tmp_path_factory)
    lite = shutil.copytree(source, tmp_path_factory.mktemp("lite") / "hub")
    with open_store(lite / "fieldsync.db") as store:
        badges.signing_key(store)   # made on first use, its id in the database: made before the copy
    pg = _copied_to_postgres(lite, tmp_path_factory.mktemp("pg") / "hub", url)
    with in_process(lite, ids=ids) as on_sqlite, in_process(pg, ids=ids) as on_postgres:
        yield [(site, site.signed_in("admin", fixture.PASSWORD)) for site in (on_sqlite, on_postgres)]


def _filled(path: str, arguments: set[str], ids: dict) -> list[str]:
    """A rule's path with its arguments filled with the city's records (none: one we cannot fill)."""
    named = arguments - {"year"}
    if not arguments <= set(ARGUMENTS) or len(named) > 1:
        return []
    path = path.replace("<int:year>", str(YEAR))
    return [path.replace(f"<{name}>", ids[key]) for name in named
            for key in ARGUMENTS[name][:1 if path.endswith(".pdf") else None]] or [path]


def _pages(app, ids: dict) -> list[str]:
    """Every page and API answer read with GET, as the city's records fill them."""
    return sorted(page for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint not in SKIPPED
                  for page in _filled(rule.rule, set(rule.arguments), ids))


def _same_keys(source: Path, target: Path) -> None:
    """The keys a hub makes on first use (personal links, badges), made on the SQLite twin, given
    to the PostgreSQL twin before it makes its own: links and codes are signed alike."""
    for key in source.iterdir():
        if key.is_file() and not key.name.startswith(("fieldsync.db", "config")) and not (target / key.name).exists():
            shutil.copy2(key, target / key.name)


def _read(client, path: str) -> tuple[int, str]:
    answer = client.get(path)
    if answer.mimetype in ("text/html", "application/json", "text/csv", "text/plain"):
        return answer.status_code, PER_REQUEST.sub(r"\1", answer.text)
    return answer.status_code, answer.mimetype


def _report_params(report: registry.Report, ids: dict) -> list[dict]:
    if "table" in report.params:
        return [{"table": table} for table in csv_export.DATABASE_TABLES]
    if "session" in report.params:
        return [{"session": ids[key]} for key in ARGUMENTS["session_id"]]
    if "unit" in report.params:
        return [{"year": YEAR, "unit": unit} for unit in UNITS]
    return [{"year": YEAR}]


def test_every_report_file_is_the_same(twins):
    (lite, _), (pg, _) = twins
    with lite.app.app_context():
        for name, report in registry.REPORTS.items():
            for raw in _report_params(report, lite.ids):
                files = [b"".join(registry.prepare(site.app.extensions["fieldsync.store"].db, name, "csv", raw)[1])
                         for site in (lite, pg)]
                assert files[1].decode() == files[0].decode(), (name, raw)


def _difference(path: str, on_sqlite: tuple[int, str], on_postgres: tuple[int, str]) -> str:
    lines = difflib.unified_diff(on_sqlite[1].splitlines(), on_postgres[1].splitlines(), "sqlite", "postgresql",
                                 n=0, lineterm="")
    return f"{path}: {on_sqlite[0]} / {on_postgres[0]}\n" + "\n".join(line[:160] for line in list(lines)[:12])


def test_every_page_is_the_same(twins):
    (lite, lite_admin), (pg, pg_admin) = twins
    pages = _pages(lite.app, lite.ids)
    pages += [f"/hub/?year={YEAR}&unit={unit}" for unit in UNITS]
    pages += [f"/hub/reports/{name}.csv?year={YEAR}&unit={unit}" for name, report in registry.REPORTS.items()
              if "unit" in report.params for unit in UNITS[:3]]
    answers = []
    for path in pages:
        on_sqlite = _read(lite_admin, path)
        _same_keys(lite.instance, pg.instance)
        answers.append((path, on_sqlite, _read(pg_admin, path)))
    differ = [_difference(*answer) for answer in answers if answer[1] != answer[2]]
    assert not differ, "\n\n".join(differ)
