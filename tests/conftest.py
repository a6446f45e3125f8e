"""Fixtures: a demo node instance on disk, an app on it, and a live server process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldsync import demo
from fieldsync.parts import open_store
from tests.support import LiveServer, WebClient


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


@pytest.fixture
def node_app(node_instance):
    from fieldsync.server import create_app

    app = create_app({"TESTING": True, "AUTO_SYNC_SECONDS": 0}, instance=node_instance)
    yield app
    app.extensions["fieldsync.store"].close()


@pytest.fixture
def live_node(node_instance):
    with LiveServer(node_instance) as server:
        yield server


@pytest.fixture
def staff(live_node) -> WebClient:
    client = WebClient(live_node.url)
    assert client.login("staff").ok
    return client


@pytest.fixture
def trainer(live_node) -> WebClient:
    client = WebClient(live_node.url)
    assert client.login("trainer").ok
    return client
