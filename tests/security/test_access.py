"""Who may call what on a node and on a hub: roles on every route, CSRF on every unsafe one,
cookie flags, open redirects, station tokens.

The routes come from the app itself, so a page or endpoint added later is
covered the day it lands.
"""

from __future__ import annotations

import time

import requests

from fieldsync import PROTOCOL_VERSION
from fieldsync.parts import open_store
from fieldsync.records import stations
from fieldsync.records.users import RANK
from fieldsync.sync.protocol import PROTOCOL_HEADER
from tests.security.routes import PUBLIC, csrf_checked
from tests.support import DEMO_PASSWORD, AppClient, WebClient


def call(client: AppClient, route, *, csrf: str | None = None):
    """`route` called by `client` with the CSRF token `csrf` (none if None), no redirect followed."""
    # The protocol header gets sync calls past their version check to the question of who calls.
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "X-CSRF-Token": csrf or ""}
    body = {"json": {}} if route.api else {"data": {}}
    return client.open(route.path, method=route.method, headers=headers, follow_redirects=False,
                       **(body if route.method != "GET" else {}))


def test_every_route_requires_a_role_or_is_public_on_purpose(site):
    unguarded = sorted({r.endpoint for r in site.routes if r.role is None} - PUBLIC)
    assert unguarded == [], "routes without @require: guard them or add them to routes.PUBLIC"
    assert sum(r.role is not None for r in site.routes) >= 30


def test_anonymous_callers_are_refused_everywhere(site):
    for route in (r for r in site.routes if r.role):
        answer = call(site.client(), route)
        if route.api:
            assert answer.status_code == 401, (route, answer.text[:200])
            expected = "node_token_required" if route.role == "node" else "login_required"
            assert answer.json["error"]["code"] == expected, route
        elif route.method == "GET":
            assert answer.status_code == 302 and "/login" in answer.headers["Location"], route
        else:  # an anonymous form post carries no CSRF token: refused before the role check
            assert answer.status_code == 403, route


def test_each_role_is_refused_what_is_above_it(site):
    checked = 0
    for role in ("trainer", "staff", "admin"):
        client = site.clients[role]
        for route in (r for r in site.routes if r.role and RANK.get(r.role, 99) > RANK[role]):
            answer = call(client, route, csrf=client.csrf)
            assert answer.status_code in (401, 403), (role, route, answer.status_code, answer.text[:200])
            if route.api:
                expected = "node_token_required" if route.role == "node" else "role_forbidden"
                assert answer.json["error"]["code"] == expected, (role, route)
            checked += 1
    assert checked >= 20


def test_every_unsafe_route_needs_the_csrf_token(site):
    admin, other = site.clients["admin"], site.clients["staff"]
    unsafe = [r for r in site.routes if csrf_checked(r) and r.endpoint != "auth.login" and r.role != "node"]
    assert len(unsafe) >= 15
    for route in unsafe:
        for token in (None, other.csrf, "x" * 43):
            answer = call(admin, route, csrf=token)
            assert answer.status_code == 403, (route, token, answer.status_code)
            if route.api:
                assert answer.json["error"]["code"] == "csrf_failed"
    assert admin.get("/").status_code == 200, "the admin stays signed in: nothing ran"


def test_csrf_tokens_with_odd_characters_are_refused_not_crashed(live_node, live_admin):
    for token in ("令牌", "\u00e9" * 43, ""):
        answer = live_admin.http.post(live_node.url + "/api/v1/sessions", json={}, timeout=10,
                                 headers={"X-CSRF-Token": token.encode().decode("latin-1")})
        assert answer.status_code == 403, answer.text
    answer = live_admin.http.post(live_node.url + "/logout", data={"csrf_token": "令牌"}, timeout=10)
    assert answer.status_code == 403


def test_sign_in_form_needs_csrf_and_never_redirects_off_site(live_node):
    assert requests.post(live_node.url + "/login", data={"username": "admin", "password": DEMO_PASSWORD},
                         timeout=10).status_code == 403
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client = WebClient(live_node.url)
        page = client.get("/login")
        answer = client.http.post(live_node.url + "/login", params={"next": target}, allow_redirects=False,
                                  data={"username": "admin", "password": DEMO_PASSWORD,
                                        "csrf_token": client.csrf}, timeout=10)
        assert page.ok and answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (target, location)


def test_session_cookie_is_httponly_and_samesite(live_node):
    client = WebClient(live_node.url)
    client.get("/login")
    answer = client.http.post(live_node.url + "/login", allow_redirects=False, timeout=10, data={
        "username": "staff", "password": DEMO_PASSWORD, "csrf_token": client.csrf})
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("fieldsync_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_a_wrong_password_gets_nothing(live_node):
    client = WebClient(live_node.url)
    assert client.login("staff", "not-the-password").status_code == 401
    assert client.get("/people", allow_redirects=False).status_code == 302


def test_passwords_are_stored_hashed(node_instance):
    with open_store(node_instance / "fieldsync.db") as store:
        hashes = [r["password_hash"] for r in store.query("SELECT password_hash FROM users")]
    assert hashes and all(DEMO_PASSWORD not in h and h.startswith(("scrypt:", "pbkdf2:")) for h in hashes)


def test_station_tokens_are_refused_once_revoked_and_never_reach_staff_routes(node_instance, live_node, live_staff):
    made = []
    with open_store(node_instance / "fieldsync.db") as store:
        for name in ("门口", "后门"):
            made.append(stations.create(store, name))
    (station, token), (other_station, other_token) = made
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(live_node.url + "/api/v1/sessions", headers=bearer, timeout=10).status_code == 200
    created = requests.post(live_node.url + "/api/v1/sessions", headers=bearer, json={}, timeout=10)
    assert created.status_code in (401, 403)
    # Staff revoke it on the stations page: refused from the very next request.
    assert live_staff.post(f"/kiosk/stations/{station['id']}/revoke", allow_redirects=False).status_code == 302
    refused = requests.get(live_node.url + "/api/v1/sessions", headers=bearer, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "bad_token"
    forged = requests.get(live_node.url + "/api/v1/sessions", timeout=10,
                          headers={"Authorization": "Bearer " + token[:-2] + "xx"})
    assert forged.status_code == 401
    # Revoked by another process (the server remembers a token for two seconds).
    other = {"Authorization": f"Bearer {other_token}"}
    assert requests.get(live_node.url + "/api/v1/sessions", headers=other, timeout=10).status_code == 200
    with open_store(node_instance / "fieldsync.db") as store:
        stations.revoke(store, other_station["id"])
    deadline = time.monotonic() + 2.5
    while requests.get(live_node.url + "/api/v1/sessions", headers=other, timeout=10).status_code != 401:
        assert time.monotonic() < deadline, "a station revoked elsewhere still works after 2 s"
        time.sleep(0.1)

