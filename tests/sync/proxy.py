"""Fault-injecting TCP proxies for tests and benches: they sit on a loopback port in front of a real server.

FaultProxy plans faults per HTTP exchange; ShapedLink (below) is a slow, far and
cutting link, as a township's ADSL or a village hall's 4G hotspot is.

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
import queue
import random
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


class _Loopback:
    """A listening port on loopback that hands each accepted connection to `_open(client)` (which
    returns something with close()) and closes them all when stopped: the proxies below."""

    def __init__(self, upstream_port: int, timeout: float):
        self.upstream_port, self.timeout = upstream_port, timeout
        self.connections: list = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._running = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _open(self, client: socket.socket):
        raise NotImplementedError

    def start(self) -> Self:
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
                self.connections.append(self._open(client))
            except OSError:
                client.close()

    def stop(self) -> None:
        self._running = False
        self._listener.close()
        for connection in self.connections:
            connection.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FaultProxy(_Loopback):
    def __init__(self, upstream_port: int, *, timeout: float = 30.0):
        super().__init__(upstream_port, timeout)
        self._faults: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self.exchanges = 0
        self.faults_applied = 0

    def plan(self, *faults: Fault | None) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.exchanges += 1
            fault = self._faults.popleft() if self._faults else None
            self.faults_applied += fault is not None
            return fault

    def _open(self, client: socket.socket) -> _Link:
        link = _Link(self, client)
        threading.Thread(target=link.run, daemon=True).start()
        return link


# -- a slow, far link that cuts connections -----------------------------------------------------
PIECE = 4096          # bytes paced at a time
BUFFERED = 16         # pieces a direction holds before it stops reading (a router's buffer)


class _Direction:
    """One way of the link, shared by every connection: bytes leave at `rate` bytes/s, in order."""

    def __init__(self, rate: float):
        self.rate, self.free_at, self.bytes = rate, 0.0, 0
        self.lock = threading.Lock()

    def reserve(self, size: int, arrived: float, latency: float) -> float:
        """When a piece that reached the link at `arrived` is delivered at the far end."""
        with self.lock:
            self.free_at = max(self.free_at, arrived) + size / self.rate
            return self.free_at + latency


class _ShapedConnection:
    """A client connection and its upstream: each way read into a small buffer, paced, delayed,
    and the whole connection reset once `cut_after` bytes (both ways) went through."""

    def __init__(self, link: ShapedLink, client: socket.socket, latency: float, cut_after: float):
        self.link, self.client, self.latency, self.cut_after = link, client, latency, cut_after
        self.upstream = socket.create_connection(("127.0.0.1", link.upstream_port), timeout=link.timeout)
        self.client.settimeout(link.timeout)
        self.through = 0
        self.lock = threading.Lock()
        self.closed = threading.Event()
        # The client's first byte cannot arrive before the handshake's round trip.
        self.ready_at = time.monotonic() + 2 * latency

    def start(self) -> None:
        for source, target, way in ((self.client, self.upstream, self.link.up),
                                    (self.upstream, self.client, self.link.down)):
            pieces: queue.Queue = queue.Queue(BUFFERED)
            threading.Thread(target=self._read, args=(source, pieces, way), daemon=True).start()
            threading.Thread(target=self._write, args=(target, pieces, way), daemon=True).start()

    def close(self, reset: bool = False) -> None:
        if not self.closed.is_set():
            self.closed.set()
            for sock in (self.client, self.upstream):
                _close(sock, reset=reset)

    def _read(self, source: socket.socket, pieces: queue.Queue, way: _Direction) -> None:
        try:
            while not self.closed.is_set():
                data = source.recv(PIECE)
                if not data:
                    break
                arrived = max(time.monotonic(), self.ready_at)
                pieces.put((data, way.reserve(len(data), arrived, self.latency)))
        except OSError:
            pass
        pieces.put((b"", 0.0))

    def _write(self, target: socket.socket, pieces: queue.Queue, way: _Direction) -> None:
        try:
            while True:
                data, due = pieces.get()
                if not data or self.closed.is_set():
                    break
                time.sleep(max(due - time.monotonic(), 0))
                with self.lock:
                    room = self.cut_after - self.through
                    self.through += len(data)
                if room < len(data):
                    room = max(int(room), 0)
                    target.sendall(data[:room])
                    way.bytes += room
                    self.link.cuts += 1
                    self.close(reset=True)
                    return
                target.sendall(data)
                way.bytes += len(data)
        except OSError:
            pass
        self.close()


class ShapedLink(_Loopback):
    """A link from a town to the hub, on a loopback port: `up` and `down` bytes/s shared by every
    connection, a one-way latency drawn per connection from `latency` (seconds), and, with `cut`
    (lowest, highest bytes), each connection reset after a random number of bytes in that range.
    Bytes counted are what the link carried (TCP/IP headers not included).

        with ShapedLink(hub.port, up=64_000, down=128_000, latency=(0.15, 0.3), cut=(20_000, 80_000)) as link:
            ... point the client at link.url ...
    """

    def __init__(self, upstream_port: int, *, up: float, down: float, latency=(0.0, 0.0), cut=None,
                 seed: int = 17, timeout: float = 60.0):
        super().__init__(upstream_port, timeout)
        self.up, self.down = _Direction(up), _Direction(down)
        self.latency, self.cut = latency, cut
        self.rng = random.Random(seed)
        self.cuts = 0

    @property
    def bytes_up(self) -> int:
        return self.up.bytes

    @property
    def bytes_down(self) -> int:
        return self.down.bytes

    def _open(self, client: socket.socket) -> _ShapedConnection:
        latency = self.rng.uniform(*self.latency)
        cut_after = self.rng.uniform(*self.cut) if self.cut else float("inf")
        connection = _ShapedConnection(self, client, latency, cut_after)
        connection.start()
        return connection
