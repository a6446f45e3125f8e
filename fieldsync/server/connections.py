"""How many connections the web server keeps, per client and in all, and for how long.

A phone on the venue's Wi-Fi that opens hundreds of idle or half-sent connections
must not lock the stations out. waitress caps only the total, so the accept step
of plain `serve` and of the TLS front also caps each client address
(docs/decisions/0070-connection-limits.md).
"""

from __future__ import annotations

import threading

MAX_CONNECTIONS = 256   # all clients at once: waitress channels, and the TLS front's threads;
                        # one address may hold config CLIENT_CONNECTIONS of them
IDLE_SECONDS = 30       # a kept-alive or half-sent connection silent this long is closed...
SWEEP_SECONDS = 5       # ...at waitress's next look, this often


def waitress_options(threads: int) -> dict:
    """The waitress settings of `serve`, with and without --tls (the TLS front's backend)."""
    return {
        "threads": threads,
        "ident": "fieldsync",
        # waitress counts its listening socket and its wake-up pipe among the connections.
        "connection_limit": MAX_CONNECTIONS + 2,
        "channel_timeout": IDLE_SECONDS,
        "cleanup_interval": SWEEP_SECONDS,
    }


def few_malloc_arenas(count: int = 2) -> None:
    """glibc gives each thread that allocates its own malloc arena (up to eight a core) and keeps
    what each frees: the 32 waitress threads of a town laptop held ~9 MB more after a busy
    morning than with two arenas (issue 17: the serving process under 100 MB). Call it before
    the threads start. Without glibc (musl, macOS, Windows) there is nothing to do."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, count)   # -8: M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def serve(app, host: str, port: int, *, threads: int, per_client: int) -> None:
    """Plain-HTTP waitress whose accept closes a connection beyond the client's share at once."""
    import logging

    import waitress.server

    logging.basicConfig()   # waitress's warnings (a full house, a bad request) reach the console
    listeners: dict = {}
    server = waitress.server.create_server(app, map=listeners, host=host, port=port,
                                           clear_untrusted_proxy_headers=True, **waitress_options(threads))
    if per_client:
        for listener in list(listeners.values()):
            if isinstance(listener, waitress.server.BaseWSGIServer):
                listener.channel_class = _capped_channel(per_client)
    server.run()


def _capped_channel(per_client: int):
    """waitress makes each accepted connection's channel by calling its server's channel_class;
    this one counts the client's open channels first and closes the connection over the cap."""
    from waitress.channel import HTTPChannel

    def channel(server, conn, addr, adj, map=None):
        client = addr[0] if isinstance(addr, tuple) else addr
        held = sum(1 for open_one in list(server.active_channels.values())
                   if isinstance(open_one.addr, tuple) and open_one.addr[0] == client)
        if held >= per_client:
            conn.close()
            return None
        return HTTPChannel(server, conn, addr, adj, map=map)

    return channel


class ClientSlots:
    """Open connections counted per client address, for the TLS front's accept loop."""

    def __init__(self, per_client: int, total: int = MAX_CONNECTIONS):
        self.per_client, self.total = per_client, total
        self.held: dict[str, int] = {}
        self.open = 0
        self.lock = threading.Lock()

    def take(self, client: str) -> bool:
        with self.lock:
            mine = self.held.get(client, 0)
            if self.open >= self.total or (self.per_client and mine >= self.per_client):
                return False
            self.held[client] = mine + 1
            self.open += 1
            return True

    def give_back(self, client: str) -> None:
        with self.lock:
            self.open -= 1
            left = self.held[client] - 1
            if left:
                self.held[client] = left
            else:
                del self.held[client]
