"""A hostile device on the venue's Wi-Fi holding hundreds of idle or half-sent connections
must not lock the stations out, over plain HTTP or behind the TLS front of `serve --tls`.

Loopback plays the LAN: the hostile device connects from 127.0.0.2, the trainer's phone
from 127.0.0.1, both to the server on 127.0.0.1.
"""

from __future__ import annotations

import socket
import ssl

from fieldsync.store import new_id
from tests.server.test_checkin_http import _roster
from tests.support import WebClient

HOSTILE = "127.0.0.2"
SOCKETS = 300
HALF_A_REQUEST = b"POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"


def hold_connections(port: int, *, tls: bool) -> list[socket.socket]:
    """Open SOCKETS connections from the hostile address, each stalled in the middle of a request."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    held = []
    for _ in range(SOCKETS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(HOSTILE, 0))
        held.append(sock)
        try:
            if tls:
                sock = context.wrap_socket(sock)
                held.append(sock)
            sock.sendall(HALF_A_REQUEST)
        except OSError:
            pass  # the server closed this one at once: the address holds its share
    return held


def scan(client: WebClient, instance) -> int:
    """One real check-in over a new connection (the client's kept-alive ones are dropped first)."""
    session_id, codes = _roster(instance, 1)
    client.http.close()
    answer = client.post("/api/v1/checkins", json={"id": new_id(), "session": session_id, "code": codes[0]},
                         timeout=10)
    return answer.status_code


def test_half_sent_requests_from_one_address_leave_plain_http_to_the_stations(node_instance, live_node,
                                                                             live_trainer):
    held = hold_connections(live_node.port, tls=False)
    try:
        assert scan(live_trainer, node_instance) == 201
    finally:
        for sock in held:
            sock.close()


def test_idle_tls_connections_from_one_address_leave_the_front_to_the_stations(node_instance, tls_node):
    trainer = tls_node.client()
    assert trainer.login("trainer").ok
    held = hold_connections(tls_node.port, tls=True)
    try:
        assert scan(trainer, node_instance) == 201
    finally:
        for sock in held:
            sock.close()
