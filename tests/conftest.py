"""Fixtures: a demo node instance on disk, the app on it in this process, and a live server process.

Which to use (docs/decisions/0200-fast-tests.md):

- In process, flaskr-style, for anything that needs no second process: pages, forms, API
  validation, reports and exports, roles. `app` is create_app() on a fresh copy of the demo
  town (a real SQLite file), `client` is `app.test_client()` (tests.support.AppClient: it follows
  redirects and carries the CSRF token like a browser), `auth.login("staff")` / `auth.logout()`
  sign that client in and out, `staff` and `trainer` are clients already signed in, and
  `signed_in("admin")` gives one more client per account when a test needs several people at once. A hub: `in_process(instance)` from tests.support.
- A real `fieldsync serve` process (`live_node`, `live_staff`, `live_trainer`, LiveServer) only where the process is the point:
  sync between a node and a hub (tests/sync `cluster`), crashes and SIGKILL, TLS, the network
  (proxies, timeouts), and the browser tests. Each costs a Python start-up and a port poll.
- Demo data is built once per session (`demo_template`, `hub_template`, the reports'
  `city_template`) and copied per test: copying the SQLite file is cheap, building is not.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from fieldsync import demo
from fieldsync.parts import open_store
from tests import backends
from tests.reports import fixture as city
from tests.support import DEMO_PASSWORD, LiveServer, Site, WebClient, in_process


def pytest_configure(config):
    """Where the environment says PYTHONDONTWRITEBYTECODE, every server and command a test starts
    (LiveServer, run_cli: hundreds a run) would compile fieldsync's sources again, about a second
    of CPU each. They keep their bytecode in the temporary folder instead (PYTHONPYCACHEPREFIX):
    the source tree stays as the environment asked. (Set here, before xdist starts its workers.)"""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) and not os.environ.get("PYTHONPYCACHEPREFIX"):
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "fieldsync-test-pycache")
    # xdist hands out files with the most tests first: the files of one or two long tests (a minute
    # of SIGKILLs, a chain of four hubs) came last and ran alone while the other worker idled. The
    # order is ours instead (_longest_first).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if not config.pluginmanager.has_plugin("fieldsync-template-watch"):
        config.pluginmanager.register(_TemplateWatch(), "fieldsync-template-watch")


# Files whose few tests take the longest (a minute or more on 2 cores): handed out first, so the
# run does not end waiting on one of them. Measured with --durations; a stale entry costs nothing.
LONGEST_FIRST = (
    "tests/fault/test_hub_crash.py", "tests/fault/test_node_crash.py", "tests/sync/test_chain.py",
    "tests/e2e/test_every_page.py", "tests/sync/test_filings.py", "tests/fault/test_fuzz_api.py",
    "tests/e2e/test_csp.py", "tests/pg/test_migrate_to.py", "tests/sync/test_own_places.py",
    "tests/reports/test_same_on_both.py", "tests/test_readme_day.py",
)


def _longest_first(items: list) -> None:
    """LONGEST_FIRST's files first, then files by their number of tests, most first (what xdist
    did); each file's tests keep their order."""
    path = {id(item): item.nodeid.split("::")[0] for item in items}
    count = Counter(path.values())
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    first = {}
    for item in items:
        first.setdefault(path[id(item)], len(first))
    items.sort(key=lambda item: (rank.get(path[id(item)], len(rank)), -count[path[id(item)]],
                                 first[path[id(item)]]))


def pytest_collection_modifyitems(config, items):
    """Longest first (above); and the PostgreSQL pass keeps the tests that make or open a hub
    (tests/backends.py): the others would run exactly as in the SQLite pass. Deselected, not
    skipped: they were not run here."""
    _longest_first(items)
    if not backends.HUBS_ON_POSTGRES:
        return
    kept, dropped = [], []
    for item in items:
        (kept if backends.needs_a_hub(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config.stash[_NO_HUB] = Counter(item.nodeid.split("::")[0] for item in dropped)


_NO_HUB = pytest.StashKey[Counter]()


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput") and _NO_HUB in session.config.stash:   # an xdist worker
        session.config.workeroutput["fieldsync_no_hub"] = dict(session.config.stash[_NO_HUB])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """(xdist, in the controller) each worker collected the same; keep one's count."""
    counted = getattr(node, "workeroutput", {}).get("fieldsync_no_hub")
    if counted is not None:
        node.config.stash[_NO_HUB] = Counter(counted)


def pytest_terminal_summary(terminalreporter, config):
    if _NO_HUB not in config.stash:
        return
    counted = config.stash[_NO_HUB]
    terminalreporter.write_sep("-", f"PostgreSQL pass: {sum(counted.values())} tests deselected: no hub among "
                                    f"their fixtures and not marked `hub` (they ran in the SQLite pass)")
    for path, count in sorted(counted.items()):
        terminalreporter.write_line(f"{count:4d}  {path}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    backends.HubSeen.seen = False


class _TemplateWatch:
    """The making of a hub template is its fixture's, which needs_a_hub sees, even when a test asks
    for it by getfixturevalue. (A plugin, not a conftest hook: a session fixture is set up under the
    session, which this conftest's hooks do not reach.)"""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.argname not in backends.HUB_TEMPLATES:
            return (yield)
        backends.HubSeen.building_template = True
        try:
            return (yield)
        finally:
            backends.HubSeen.building_template = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test of the PostgreSQL pass's suites that made or copied a hub must be kept by it."""
    outcome = yield
    if backends.HubSeen.seen and not backends.needs_a_hub(item) and backends.in_postgres_suites(item):
        pytest.fail("this test makes or copies a hub but the PostgreSQL pass would deselect it: mark it "
                    "@pytest.mark.hub, or use a hub fixture (tests/backends.py)", pytrace=False)
    return outcome


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A demo node instance built once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("demo-template")
    from fieldsync import config

    config.save(path, mode="node", town=demo.DEMO_TOWN)
    with open_store(path / "fieldsync.db") as store:
        demo.load(store)
    return path


@pytest.fixture
def node_instance(demo_template, tmp_path) -> Path:
    target = tmp_path / "node"
    shutil.copytree(demo_template, target)
    return target


@pytest.fixture
def store(node_instance):
    with open_store(node_instance / "fieldsync.db") as opened:
        yield opened


@pytest.fixture
def chinese():
    """Messages made outside a request (domain calls in the test process) in Chinese, as a Chinese
    CLI user reads them; English again afterwards."""
    from fieldsync import i18n

    i18n.choose("zh")
    yield
    i18n.choose("en")


@pytest.fixture(scope="session")
def city_template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The hand-computed city (tests/reports/fixture.py) built once: (folder, ids). Copy it."""
    path = tmp_path_factory.mktemp("city-template")
    return path, city.build_instance(path)


@pytest.fixture
def node_site(node_instance) -> Site:
    """The town node's app on its own copy of the demo town, in this process."""
    with in_process(node_instance) as site:
        yield site


@pytest.fixture
def app(node_site):
    return node_site.app


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    """flaskr's auth helper: sign `client` in as a demo account (staff, trainer, admin) or out."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str = "staff", password: str = DEMO_PASSWORD):
        return self._client.login(username, password)

    def logout(self):
        return self._client.logout()


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def signed_in(node_site):
    """signed_in("admin"): another client of `app`, signed in as that account (its own cookie)."""
    return node_site.signed_in


@pytest.fixture
def live_node(node_instance):
    with LiveServer(node_instance) as server:
        yield server


@pytest.fixture
def staff(node_site):
    """The town office's staff, signed in to `app` in this process."""
    return node_site.signed_in("staff")


@pytest.fixture
def trainer(node_site):
    return node_site.signed_in("trainer")


@pytest.fixture
def admin(node_site):
    return node_site.signed_in("admin")


@pytest.fixture
def live_staff(live_node) -> WebClient:
    """The same people, signed in to the `live_node` process over HTTP."""
    client = WebClient(live_node.url)
    assert client.login("staff").ok
    return client


@pytest.fixture
def live_trainer(live_node) -> WebClient:
    client = WebClient(live_node.url)
    assert client.login("trainer").ok
    return client


@pytest.fixture
def live_admin(live_node) -> WebClient:
    client = WebClient(live_node.url)
    assert client.login("admin").ok
    return client
