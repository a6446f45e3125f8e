"""What a browser is told on every answer: run only our own scripts and styles, never inside
someone else's frame, never guess a content type, send no referrer off the site; over
`serve --tls` also keep to https. And the http→https redirect keeps to this laptop."""

from __future__ import annotations

import socket

from fieldsync.records.users import RANK
from tests.security.test_access import call


def assert_guarded(answer) -> None:
    policy = answer.headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in policy.split(";"))
    where = getattr(answer, "url", None) or answer.request.path     # over HTTP, or in process
    assert directives.get("script-src", "").startswith("'self'"), (where, policy)
    assert directives.get("style-src", "").startswith("'self'"), (where, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (where, policy)
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'"
    assert answer.headers.get("X-Frame-Options") == "DENY", where
    assert answer.headers.get("X-Content-Type-Options") == "nosniff", where
    assert answer.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), where


def test_every_page_and_api_answer_carries_the_security_headers(site):
    checked = 0
    for role, client in [(None, site.client()), *site.clients.items()]:
        for route in site.routes:
            if route.method != "GET" or (route.role and RANK.get(route.role, 99) > RANK.get(role, 0)):
                continue
            answer = call(client, route)
            kind = answer.headers.get("Content-Type", "")
            if "html" in kind or "json" in kind:
                assert_guarded(answer)
                assert "Strict-Transport-Security" not in answer.headers   # plain http
                checked += 1
    assert checked >= 60


def test_over_tls_answers_also_ask_to_stay_on_https(tls_node):
    staff = tls_node.client()
    assert staff.login("staff").ok
    for path in ("/login", "/kiosk/", "/people", "/api/v1/health", "/api/v1/no-such-thing"):
        answer = staff.get(path)
        assert_guarded(answer)
        assert answer.headers["Strict-Transport-Security"].startswith("max-age="), path


def plain_request_to(port: int, host_header: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /kiosk/?x=1 HTTP/1.1\r\nHost: {host_header}\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer.decode("latin-1")


def test_http_on_the_tls_port_redirects_to_this_laptop_whatever_the_host_header(tls_node):
    ours = f"https://127.0.0.1:{tls_node.port}/kiosk/?x=1"
    for host in ("evil.example", "evil.example:443", "[2001:db8::1]:80", ""):
        answer = plain_request_to(tls_node.port, host)
        assert answer.startswith("HTTP/1.1 301") and f"\r\nLocation: {ours}\r\n" in answer, (host, answer)
    answer = plain_request_to(tls_node.port, f"localhost:{tls_node.port}")
    assert f"\r\nLocation: https://localhost:{tls_node.port}/kiosk/?x=1\r\n" in answer
