"""Bad input, generated: schemathesis sends every operation of the node's OpenAPI document
valid and invalid parameters and bodies (signed in as admin, so requests get past the
door); no answer may be a 5xx or carry a traceback, and every refusal has our error shape.

Path ids are random strings half of the time and ids of real records the other half,
so the fuzzing reaches the code behind the 404s.
"""

from __future__ import annotations

import shutil
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from fieldsync.parts import open_store
from tests.fault.support import soak_only
from tests.support import LiveServer, WebClient

TRIED: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzzed_node(demo_template, tmp_path_factory):
    instance = tmp_path_factory.mktemp("fuzz") / "node"
    shutil.copytree(demo_template, instance)
    with LiveServer(instance) as server:
        yield server
    print(f"\nfuzzing: {sum(TRIED.values())} generated requests over {len(TRIED)} operations")


@pytest.fixture(scope="module")
def fuzz_admin(fuzzed_node) -> WebClient:
    client = WebClient(fuzzed_node.url)
    assert client.login("admin").ok
    return client


@pytest.fixture(scope="module")
def known_ids(fuzzed_node) -> list[str]:
    with open_store(fuzzed_node.instance / "fieldsync.db") as store:
        return [row["id"] for table in ("people", "sessions", "forms", "submissions")
                for row in store.query(f"SELECT id FROM {table} LIMIT 20")]


@pytest.fixture(scope="module")
def node_openapi(fuzzed_node):
    return schemathesis.openapi.from_url(fuzzed_node.url + "/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("node_openapi")


def with_real_ids(path_parameters: dict | None, known_ids: list[str]) -> dict | None:
    """Swap half the generated ids for real ones, chosen from the generated text (so reruns agree)."""
    if not path_parameters:
        return path_parameters
    swapped = {}
    for name, value in path_parameters.items():
        digest = zlib.crc32(str(value).encode())
        swapped[name] = known_ids[digest % len(known_ids)] if digest % 2 else value
    return swapped


def fuzzing(examples: int):
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@schema.parametrize()
@fuzzing(12)
def test_no_generated_request_breaks_the_node(case, fuzzed_node, fuzz_admin, known_ids):
    send_and_check(case, fuzzed_node, fuzz_admin, known_ids)


@pytest.mark.soak
@soak_only
@schema.parametrize()
@fuzzing(300)
def test_no_generated_request_breaks_the_node_soak(case, fuzzed_node, fuzz_admin, known_ids):
    send_and_check(case, fuzzed_node, fuzz_admin, known_ids)


def send_and_check(case, fuzzed_node, fuzz_admin, known_ids) -> None:
    case.path_parameters = with_real_ids(case.path_parameters, known_ids)
    response = case.call(base_url=fuzzed_node.url, session=fuzz_admin.http, timeout=30,
                         headers={"X-CSRF-Token": fuzz_admin.csrf})
    TRIED[case.operation.label] = TRIED.get(case.operation.label, 0) + 1
    described = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:300]!r}"
    assert response.status_code < 500, f"{described} -> {response.status_code} {response.text[:300]}"
    assert "Traceback" not in response.text, described
    if response.status_code >= 400:
        error = response.json()["error"]
        assert {"code", "message", "fields"} <= set(error), described
