"""Signing in and out against a live server: the throttle, the address it counts, ended sessions,
and where a sign-in may send the browser next."""

from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from fieldsync.parts import open_store
from fieldsync.records import sign_in, users
from fieldsync.server import create_app
from tests.support import DEMO_PASSWORD, LiveServer, WebClient, run_cli


class FromAddress(HTTPAdapter):
    """Connect from one loopback address (127.0.0.2, ...): a second machine on the LAN, as the server sees it."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(server: LiveServer, source: str | None = None) -> WebClient:
    client = WebClient(server.url)
    client.http.verify = server.verify
    client.http.trust_env = False  # else REQUESTS_CA_BUNDLE would win over our certificate
    if source:
        client.http.mount(server.url, FromAddress(source))
    return client


def attempt(client: WebClient, username: str, password: str, **headers) -> requests.Response:
    """One sign-in as the page makes it, with whatever headers a client cares to add."""
    client.get("/login")
    return client.http.post(client.base_url + "/login", allow_redirects=False, timeout=10, headers=headers,
                            data={"username": username, "password": password, "csrf_token": client.csrf})


def failures(instance) -> dict[str, int]:
    with open_store(instance / "fieldsync.db") as store:
        return {row["key"]: row["failures"] for row in store.query("SELECT key, failures FROM sign_in_failures")}


# -- the throttle --------------------------------------------------------------------------------

def test_wrong_passwords_for_one_name_make_it_wait_with_429_and_retry_after(live_node):
    client = client_from(live_node)
    for _ in range(sign_in.USER_LIMIT):
        assert attempt(client, "staff", "not-the-password").status_code == 401
    locked = attempt(client, "staff", DEMO_PASSWORD)
    assert locked.status_code == 429, "the right password waits too: guessing must not go on"
    assert int(locked.headers["Retry-After"]) > 0
    assert "staff" not in client.http.cookies.get("fieldsync_session", "") and client.get(
        "/people", allow_redirects=False).status_code == 302
    as_json = attempt(client, "staff", DEMO_PASSWORD, Accept="application/json")
    assert as_json.status_code == 429 and as_json.headers["Retry-After"]
    assert as_json.json()["error"]["code"] == "too_many_attempts"
    # Another name from the same desk is not held back by it.
    assert attempt(client, "admin", DEMO_PASSWORD).status_code == 302


def test_an_unknown_name_is_throttled_like_a_real_one(live_node):
    client = client_from(live_node)
    for _ in range(sign_in.USER_LIMIT):
        assert attempt(client, "nobody-here", "whatever-1").status_code == 401
    assert attempt(client, "nobody-here", "whatever-1").status_code == 429


def test_one_address_guessing_many_names_waits_and_a_forged_forwarded_for_does_not_help(live_node):
    client = client_from(live_node)
    for n in range(sign_in.ADDRESS_LIMIT):
        answer = attempt(client, f"guess{n}", "not-the-password", **{"X-Forwarded-For": f"203.0.113.{n}"})
        assert answer.status_code == 401
    answer = attempt(client, "admin", DEMO_PASSWORD, **{"X-Forwarded-For": "198.51.100.99", "Forwarded": "for=1.2.3.4"})
    assert answer.status_code == 429
    assert not [key for key in failures(live_node.instance) if "203.0.113." in key or "198.51" in key]


def test_behind_the_tls_front_each_lan_address_counts_and_none_can_be_forged(node_instance):
    with LiveServer(node_instance, tls=True) as server:
        guesser, neighbour = client_from(server, "127.0.0.2"), client_from(server, "127.0.0.3")
        for n in range(sign_in.ADDRESS_LIMIT):
            forged = {"X-Forwarded-For": f"127.0.0.{10 + n}", "X-Real-IP": "127.0.0.3"}
            assert attempt(guesser, f"guess{n}", "not-the-password", **forged).status_code == 401
        assert attempt(guesser, "admin", DEMO_PASSWORD, **{"X-Forwarded-For": "127.0.0.3"}).status_code == 429
        # The phone next to it is another address: not held back by the guesser.
        assert attempt(neighbour, "admin", DEMO_PASSWORD).status_code == 302
        counted = failures(node_instance)
        assert counted.get("address:127.0.0.2") == sign_in.ADDRESS_LIMIT, counted
        assert not [key for key in counted if key.startswith("address:") and key != "address:127.0.0.2"], counted


def test_an_unknown_or_disabled_name_costs_the_same_password_hash(store, monkeypatch):
    """The answer's time must not tell which names exist: every attempt runs one scrypt check."""
    checked = []
    real = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash", lambda *a: checked.append(a) or real(*a))
    users.set_disabled(store, "trainer", True)
    for name in ("staff", "nobody-here", "trainer"):
        checked.clear()
        assert users.authenticate(store, name, "not-the-password") is None
        assert len(checked) == 1 and checked[0][0].startswith("scrypt:"), name


# -- sessions end everywhere ---------------------------------------------------------------------

def copy_of(client: WebClient) -> WebClient:
    """The same cookie in another browser (a copied cookie, or the user's second device)."""
    other = WebClient(client.base_url)
    other.http.cookies.update(client.http.cookies)
    other.csrf = client.csrf
    return other


def signed_in(client: WebClient, path: str = "/people") -> bool:
    return client.get(path, allow_redirects=False).status_code == 200


def test_signing_out_ends_every_copy_of_the_session(live_node, live_staff):
    copied = copy_of(live_staff)
    assert signed_in(copied)
    assert copied.form("/logout", {}, allow_redirects=False).status_code == 302
    assert not signed_in(live_staff), "the old cookie still works after signing out"
    assert not signed_in(copied)
    assert live_staff.login("staff").ok and signed_in(live_staff), "signing in again works"


def test_a_new_password_from_the_command_line_ends_old_sessions(live_node, live_staff):
    copied = copy_of(live_staff)
    run_cli(live_node.instance, "user", "password", "staff", "--password", "a-new-password-1")
    assert not signed_in(live_staff) and not signed_in(copied)
    assert live_staff.login("staff", "a-new-password-1").ok and signed_in(live_staff)


def test_a_new_password_or_disabling_on_the_users_page_ends_old_sessions(live_node, live_staff, live_admin):
    live_admin.get("/users")
    assert live_admin.form("/users/staff/password", {"password": "another-password-2"},
                      allow_redirects=False).status_code == 302
    assert not signed_in(live_staff)
    assert live_staff.login("staff", "another-password-2").ok and signed_in(live_staff)
    # Disabled, then enabled again: the cookie from before stays dead.
    assert live_admin.form("/users/staff/disable", {}, allow_redirects=False).status_code == 302
    assert live_admin.form("/users/staff/enable", {}, allow_redirects=False).status_code == 302
    assert not signed_in(live_staff), "an old cookie came back to life when the account was enabled"


# -- where a sign-in sends the browser ------------------------------------------------------------

@pytest.fixture(scope="module")
def login_app(demo_template):
    app = create_app({"TESTING": True, "AUTO_SYNC_SECONDS": 0}, instance=demo_template)
    yield app
    app.extensions["fieldsync.store"].close()


def sign_in_with_next(app, raw_next: str) -> str:
    """Sign in at /login?next=<raw_next>, the query string exactly as a link would carry it."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", environ_overrides={"QUERY_STRING": "next=" + raw_next},
                         data={"username": "staff", "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return answer.headers["Location"]


@pytest.mark.parametrize("raw_next", [
    "//evil.example/", "///evil.example/", "/%09/evil.example/", "/%0a/evil.example/",
    "/%0d%0a/evil.example/", "/%00/evil.example/", "%20//evil.example/", "%09//evil.example/",
    "/%5Cevil.example", "/%5C%5Cevil.example", "%5C%5Cevil.example", "https://evil.example/",
    "https:/evil.example", "javascript:alert(1)", "/%E3%80%80/evil.example", "/%7F/evil.example",
    "evil.example", "",
])
def test_sign_in_never_sends_the_browser_off_site(login_app, raw_next):
    assert sign_in_with_next(login_app, raw_next) == "/"


@pytest.mark.parametrize("raw_next, expected", [
    ("/people?page=2", "/people?page=2"), ("/kiosk/", "/kiosk/"), ("%2Fsessions", "/sessions"),
])
def test_sign_in_goes_on_to_a_local_page(login_app, raw_next, expected):
    assert sign_in_with_next(login_app, raw_next) == expected
