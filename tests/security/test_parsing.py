"""Numbers read from text take ASCII digits of a bounded length only.

int() and str.isdigit() also accept superscripts ('²'), circled digits ('①'),
other scripts' digits ('٣') and numbers of thousands of digits; each of those
in a header, a cursor, a query argument or a path answered 500 (or was quietly
taken as another number). Every case here is a 4xx with the JSON error shape.
"""

from __future__ import annotations

import base64

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldsync.parts import open_store
from fieldsync.records import validators
from fieldsync.store import new_id
from fieldsync.sync import enrollment
from fieldsync.sync.protocol import NODE_TIME_HEADER, PROTOCOL_HEADER
from tests.backends import copy_instance
from tests.support import LiveServer, WebClient
from tests.sync.conftest import TOWN_A

ERROR_KEYS = {"code", "message", "fields"}
LONG = "9" * 5000


def _public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes_raw()).decode()


@pytest.fixture(scope="module")
def hub(hub_template, tmp_path_factory):
    """A hub process and the token of one laptop enrolled with it."""
    instance = tmp_path_factory.mktemp("parsing") / "hub"
    copy_instance(hub_template, instance)
    with open_store(instance / "fieldsync.db") as store:
        _, code = enrollment.add_node(store, TOWN_A, "parsing")
    with LiveServer(instance, hub=True) as server:
        answer = requests.post(server.url + "/api/v1/sync/enroll", headers={PROTOCOL_HEADER: "1"}, timeout=10,
                               json={"code": code, "protocol": 1, "origin": new_id(),
                                     "badge_public_key": _public(Ed25519PrivateKey.generate()),
                                     "bundle_public_key": _public(Ed25519PrivateKey.generate())})
        assert answer.status_code == 200, answer.text
        token = answer.json()["token"]
        pulled = requests.get(server.url + "/api/v1/sync/pull", timeout=10, headers={
            PROTOCOL_HEADER: "1", "Authorization": f"Bearer {token}"})
        server.token, server.epoch = token, pulled.json()["hub_epoch"]
        yield server


def _pull(hub, headers=None, **params) -> requests.Response:
    sent = {PROTOCOL_HEADER: "1", "Authorization": f"Bearer {hub.token}", **(headers or {})}
    return requests.get(hub.url + "/api/v1/sync/pull", headers=sent, params=params, timeout=30)


def _refused(answer, status: int, code: str) -> None:
    """A requests answer from the hub process, or a TestResponse (its .json a property) in process."""
    assert answer.status_code == status, answer.text[:300]
    error = (answer.json() if callable(answer.json) else answer.json)["error"]
    assert ERROR_KEYS <= set(error) and error["code"] == code


@pytest.mark.parametrize("value", ["²", LONG], ids=["superscript", "5000 digits"])
def test_a_protocol_header_that_is_not_ascii_digits_is_426(hub, value):
    _refused(_pull(hub, {PROTOCOL_HEADER: value}), 426, "protocol_unsupported")


@pytest.mark.parametrize("value", ["9" * 20, "¹⁷³²⁵⁰⁰⁰⁰⁰⁰⁰⁰", "1732500000000.5", "-1"],
                         ids=["20 digits", "superscripts", "decimal", "negative"])
def test_a_node_time_header_that_is_not_epoch_ms_is_400(hub, value):
    _refused(_pull(hub, {NODE_TIME_HEADER: value.encode()}), 400, "bad_header")


@pytest.mark.parametrize("seq", ["①", "٣", "²", "9" * 25],
                         ids=["circled", "arabic-indic", "superscript", "25 digits"])
def test_a_pull_cursor_that_is_not_ascii_digits_is_410_invalid(hub, seq):
    _refused(_pull(hub, cursor=f"{hub.epoch}:{seq}"), 410, "cursor_invalid")


@pytest.mark.parametrize("limit", ["٣", "３"], ids=["arabic-indic", "full-width"])
def test_a_pull_limit_that_is_not_ascii_digits_is_422(hub, limit):
    _refused(_pull(hub, limit=limit), 422, "validation_failed")


@pytest.mark.parametrize("path", ["/api/v1/people?offset=99999999999999999999999",
                                  "/api/v1/people?limit=٣", "/api/v1/sessions?limit=٣"])
def test_node_query_numbers_are_ascii_digits_that_fit(admin, path):
    _refused(admin.get(path), 422, "validation_failed")


def test_an_id_in_a_hub_path_is_ascii_digits_that_fit(hub):
    admin = WebClient(hub.url)
    assert admin.login("admin").ok
    answer = admin.post(f"/hub/quarantine/{'9' * 30}/dismiss", data={"note": "x"})
    assert answer.status_code == 404, answer.text[:300]


# -- validators: one number, one stored value, one keyed hash ----------------------------------
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, DEVANAGARI], ids=["arabic-indic", "devanagari"])
@pytest.mark.parametrize("check", [validators.id_number, validators.mobile, validators.contact_phone,
                                   validators.place_code])
def test_other_scripts_digits_are_refused_and_full_width_ones_are_the_same_number(check, digits):
    """٠١٢ passed as a second spelling of a number: a second stored value, a second keyed hash."""
    sample = {validators.id_number: "11010519491231002X", validators.mobile: "13812345678",
              validators.contact_phone: "0631-5212345", validators.place_code: "371002100000"}[check]
    with pytest.raises(ValueError):
        check(sample[:2] + sample[2:].translate(digits))
    assert check(sample.translate(FULL_WIDTH)) == check(sample)


@pytest.mark.parametrize("text", ["²", "①", "٣", "３", "1_000", " 1", "1e3", "", "9" * 19, "-1"])
def test_whole_number_takes_ascii_digits_only(text):
    with pytest.raises(ValueError):
        validators.whole_number(text)


def test_whole_number_reads_what_it_should():
    assert validators.whole_number("0042") == 42
    assert validators.whole_number("-5", signed=True) == -5
    assert validators.whole_number("9" * 18) == 10 ** 18 - 1
    assert validators.decimal_number("2.5") == 2.5
    with pytest.raises(ValueError):
        validators.decimal_number("٢.5")
