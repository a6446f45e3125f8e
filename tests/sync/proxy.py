"""A fault-injecting TCP proxy for tests: sits on a loopback port in front of a real server.

Faults are planned per HTTP exchange (a request and its response on one
connection; keep-alive connections carry several), in order:

    with FaultProxy(hub.port) as proxy:
        proxy.plan(Fault.reset_response(after=10), None, Fault.delay(1.0))
        ... point the client at proxy.url ...

`None` lets an exchange through untouched. Everything is bounded: socket
timeouts, delays capped at 5 s, daemon threads, and stop() closes it all.
"""

from __future__ import annotations

import collections
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Self

MAX_DELAY = 5.0
CHUNK = 65536


@dataclass(frozen=True)
class Fault:
    kind: str            # drop_request | reset_response | truncate_response | delay | reset_request
    after: int = 0       # bytes of the response (or request) let through first
    seconds: float = 0.0

    @classmethod
    def drop_request(cls) -> Fault:
        """Close the connection before the server sees the request."""
        return cls("drop_request")

    @classmethod
    def reset_request(cls, after: int = 100) -> Fault:
        """Let `after` bytes of the request through, then reset both sides (a half-sent request)."""
        return cls("reset_request", after=after)

    @classmethod
    def reset_response(cls, after: int = 0) -> Fault:
        """The server handles the request fully; the client gets `after` bytes, then a TCP reset."""
        return cls("reset_response", after=after)

    @classmethod
    def truncate_response(cls, after: int) -> Fault:
        """The client gets `after` bytes of the response, then an orderly close (FIN)."""
        return cls("truncate_response", after=after)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Hold the response for a while (capped at 5 s), then deliver it whole."""
        return cls("delay", seconds=min(seconds, MAX_DELAY))


def _close(sock: socket.socket, *, reset: bool) -> None:
    """Close now, waking the thread blocked reading it. reset: RST rather than FIN (SO_LINGER 0),
    so the peer sees 'connection reset'."""
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # SHUT_RD wakes a blocked recv without sending anything; the close then sends FIN or RST.
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: FaultProxy, client: socket.socket):
        self.proxy, self.client = proxy, client
        self.upstream = socket.create_connection(("127.0.0.1", proxy.upstream_port), timeout=proxy.timeout)
        self.client.settimeout(proxy.timeout)
        self.fault: Fault | None = None
        self.sent_back = 0
        self.awaiting_request = True
        self.closed = threading.Event()

    def run(self) -> None:
        threading.Thread(target=self._responses, daemon=True).start()
        self._requests()

    def close(self, reset: bool = False) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            _close(sock, reset=reset)

    def _requests(self) -> None:
        try:
            while not self.closed.is_set():
                data = self.client.recv(CHUNK)
                if not data:
                    break
                if self.awaiting_request:   # the first bytes of a new exchange
                    self.awaiting_request = False
                    self.fault, self.sent_back = self.proxy._next_fault(), 0
                    if self.fault and self.fault.kind == "drop_request":
                        self.close()
                        return
                    if self.fault and self.fault.kind == "reset_request":
                        self.upstream.sendall(data[:self.fault.after])
                        self.close(reset=True)
                        return
                self.upstream.sendall(data)
        except OSError:
            pass
        self.close()

    def _responses(self) -> None:
        try:
            while not self.closed.is_set():
                data = self.upstream.recv(CHUNK)
                if not data:
                    break
                if not self._deliver(data):
                    return
        except OSError:
            pass
        self.close()

    def _deliver(self, data: bytes) -> bool:
        fault = self.fault
        if fault and fault.kind in ("reset_response", "truncate_response"):
            room = max(fault.after - self.sent_back, 0)
            if room:
                self.client.sendall(data[:room])
                self.sent_back += min(room, len(data))
            if len(data) >= room:
                # Let the server finish writing first, so it is done with the request for sure.
                time.sleep(0.05)
                self.close(reset=fault.kind == "reset_response")
                return False
            return True
        if fault and fault.kind == "delay" and self.sent_back == 0:
            time.sleep(fault.seconds)
        self.client.sendall(data)
        self.sent_back += len(data)
        self.awaiting_request = True
        return True


class FaultProxy:
    def __init__(self, upstream_port: int, *, timeout: float = 30.0):
        self.upstream_port = upstream_port
        self.timeout = timeout
        self._faults: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._links: list[_Link] = []
        self.exchanges = 0
        self.faults_applied = 0
        self._running = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan(self, *faults: Fault | None) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.exchanges += 1
            fault = self._faults.popleft() if self._faults else None
            self.faults_applied += fault is not None
            return fault

    def start(self) -> FaultProxy:
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                link = _Link(self, client)
            except OSError:
                client.close()
                continue
            self._links.append(link)
            threading.Thread(target=link.run, daemon=True).start()

    def stop(self) -> None:
        self._running = False
        self._listener.close()
        for link in self._links:
            link.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
