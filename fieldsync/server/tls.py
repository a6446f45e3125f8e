"""HTTPS for phone stations: a self-signed certificate and a small TLS front for waitress.

Phones give the camera only to secure pages, and a town laptop has no domain
name, so `fieldsync serve --tls` makes its own certificate (once; kept in the
instance folder) for localhost and the laptop's LAN addresses. waitress speaks
no TLS, so a front in this process accepts on the public port, completes the
handshake in a thread per connection and relays bytes to waitress on a
loopback port (docs/decisions/0020-tls-for-phone-stations.md). A plain-HTTP
request on the same port is answered with a redirect to https.

waitress then sees every phone as 127.0.0.1. The front keeps, for each loopback
connection it opens, whose connection it carries, and the app asks it
(client_of) by the connection's port: no header is added or believed, so no
client can name itself someone else (docs/decisions/0055-sign-in-throttle.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import select
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fieldsync.server.connections import MAX_CONNECTIONS, ClientSlots

HANDSHAKE_SECONDS = 5          # from accept to a finished handshake (or a redirect's head), in all
RELAY_SECONDS = 120            # silence both ways while waitress works on an answer; idle
                               # kept-alive connections end sooner: waitress closes them
CERT_DAYS = 825
RENEW_BEFORE = dt.timedelta(days=30)
SIOCGIFADDR = 0x8915           # Linux ioctl: an interface's IPv4 address
TLS_HANDSHAKE = 0x16           # first byte of every TLS ClientHello


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, found without sending a packet."""
    found = set()
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    except OSError:
        pass
    if sys.platform.startswith("linux"):
        found.update(_linux_interface_addresses())
    return reachable_from_lan(found)


def reachable_from_lan(addresses) -> list[str]:
    """The addresses a phone on the same Wi-Fi could use: no loopback, no link-local."""
    usable = {a for a in addresses if not ipaddress.ip_address(a).is_loopback
              and not ipaddress.ip_address(a).is_link_local}
    return sorted(usable, key=ipaddress.ip_address)


def _linux_interface_addresses() -> list[str]:
    import fcntl

    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
            except OSError:  # interface without an IPv4 address
                continue
            out.append(socket.inet_ntoa(packed[20:24]))
    return out


def ensure_certificate(folder: Path, addresses: list[str]) -> tuple[Path, Path]:
    """cert.pem and key.pem in folder, made once; the certificate is remade (same key) when
    the laptop has a new address or the old one nears its end."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    key = _load_or_make_key(key_path)
    wanted = {ipaddress.ip_address(a) for a in ["127.0.0.1", *addresses]}
    if cert_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        covered = set(current.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress))
        fresh = current.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
        if wanted <= covered and fresh:
            return cert_path, key_path
    cert_path.write_bytes(_self_signed(key, sorted(wanted, key=str)).public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _load_or_make_key(key_path: Path) -> ec.EllipticCurvePrivateKey:
    if key_path.exists():
        return serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return key


def _self_signed(key: ec.EllipticCurvePrivateKey, ips: list) -> x509.Certificate:
    host = socket.gethostname()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fieldsync {host}"[:64])])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost")]
    if re.fullmatch(r"[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*", host):
        names.append(x509.DNSName(host))
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(names + [x509.IPAddress(ip) for ip in ips]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))


@dataclass
class Plan:
    host: str
    port: int
    cert: Path
    key: Path
    urls: list[str]            # where phones reach this laptop
    names: frozenset[str]      # this laptop's names and addresses, as a Host header gives them

    def redirect_base(self, asked_host: str) -> str:
        """https://<the asked host>:<our port> when it names this laptop, else our first URL."""
        if asked_host.startswith("["):
            name = asked_host[1:].partition("]")[0]
        else:
            name = asked_host.rpartition(":")[0] if asked_host.count(":") == 1 else asked_host
        name = name.lower()
        return f"https://{_bracket(name)}:{self.port}" if name in self.names else self.urls[0]


def prepare(instance: Path, host: str, port: int) -> Plan:
    addresses = lan_addresses()
    if host in ("0.0.0.0", "::"):
        shown = addresses or ["127.0.0.1"]
    else:
        shown = [host]
    cert, key = ensure_certificate(instance / "tls", [a for a in addresses + [host] if _is_ip(a)])
    names = frozenset(n.lower() for n in ["localhost", socket.gethostname(), "127.0.0.1", *addresses, *shown])
    return Plan(host, port, cert, key, [f"https://{_bracket(a)}:{port}" for a in shown], names)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return text not in ("0.0.0.0", "::")


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address


class TLSFront:
    """Accepts TLS on the public port and relays each connection to waitress on loopback."""

    def __init__(self, plan: Plan, backend_port: int, per_client: int):
        self.plan = plan
        self.backend = ("127.0.0.1", backend_port)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(plan.cert, plan.key)
        self.slots = ClientSlots(per_client, MAX_CONNECTIONS)
        self.clients: dict[int, str] = {}   # our loopback port toward waitress -> the client's address
        family = socket.AF_INET6 if ":" in plan.host else socket.AF_INET
        self.listener = socket.create_server((plan.host, plan.port), family=family, backlog=128)

    def serve_forever(self) -> None:
        while True:
            try:
                conn, address = self.listener.accept()
            except OSError:   # out of file descriptors: let some connections end, then go on
                time.sleep(0.1)
                continue
            client = address[0]
            if not self.slots.take(client):   # this address holds its share, or all are taken
                conn.close()
                continue
            threading.Thread(target=self._connection, args=(conn, client), daemon=True).start()

    def client_of(self, remote_addr: str | None, remote_port: str | None) -> str | None:
        """The address of the client whose requests arrive on this loopback connection, if it is ours."""
        if remote_addr != self.backend[0] or not (remote_port or "").isdigit():
            return None
        return self.clients.get(int(remote_port))

    def _connection(self, conn: socket.socket, client: str) -> None:
        deadline = time.monotonic() + HANDSHAKE_SECONDS
        try:
            conn.settimeout(HANDSHAKE_SECONDS)
            first = conn.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first[0] != TLS_HANDSHAKE:
                _redirect_to_https(conn, self.plan, deadline)
                return
            with self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False) as secure:
                _handshake(secure, deadline)
                with socket.create_connection(self.backend, timeout=HANDSHAKE_SECONDS) as plain:
                    for side in (secure, plain):
                        side.settimeout(RELAY_SECONDS)
                        # The relay forwards each piece as it comes; Nagle would hold the second
                        # small piece of an answer until a delayed ACK, 40 ms later.
                        side.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    # Known before the first byte reaches waitress, and kept after the connection
                    # closes (waitress may still be answering it) until a new one reuses the port:
                    # at most one entry per loopback port.
                    self.clients[plain.getsockname()[1]] = client
                    _relay(secure, plain)
        except (OSError, ssl.SSLError):
            pass  # a phone that walked away or refused our certificate: nothing to do
        finally:
            conn.close()
            self.slots.give_back(client)


def _handshake(secure: ssl.SSLSocket, deadline: float) -> None:
    """The TLS handshake within one deadline: a client trickling its hello a byte at a time
    would otherwise hold the thread for a socket timeout per byte."""
    secure.setblocking(False)
    while True:
        try:
            secure.do_handshake()
            return
        except ssl.SSLWantReadError:
            waiting = ([secure], [])
        except ssl.SSLWantWriteError:
            waiting = ([], [secure])
        left = deadline - time.monotonic()
        if left <= 0 or not any(select.select(*waiting, [], left)):
            raise TimeoutError("TLS handshake took too long")


def _relay(secure: ssl.SSLSocket, plain: socket.socket) -> None:
    both = [secure, plain]
    while True:
        # Bytes already decrypted inside the SSL object are invisible to select().
        ready = [secure] if secure.pending() else select.select(both, [], [], RELAY_SECONDS)[0]
        if not ready:
            return
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            (plain if source is secure else secure).sendall(data)


def _redirect_to_https(conn: socket.socket, plan: Plan, deadline: float) -> None:
    """Someone typed http:// — send them to this laptop with https. The host comes from the
    plan, never from the request: a Host header naming another site gets this laptop's
    first address, so the redirect cannot be aimed elsewhere."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 8192:
        conn.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    request_line, *headers = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    asked = next((h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("host:")), "")
    path = parts[1] if len(parts) == 3 else "/"
    if not re.fullmatch(r"/[!-~]{0,2000}", path):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return
    conn.sendall(f"HTTP/1.1 301 Moved Permanently\r\nLocation: {plan.redirect_base(asked)}{path}\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n".encode("latin-1"))


def serve(app, plan: Plan, *, per_client: int, **waitress_options) -> None:
    """Run waitress on a loopback port behind the TLS front; blocks until interrupted.
    The front caps connections per client; waitress sees them all from 127.0.0.1."""
    import waitress.server

    app.config["PUBLIC_URLS"] = plan.urls
    backend = waitress.server.create_server(app, host="127.0.0.1", port=0, url_scheme="https",
                                            **waitress_options)
    front = TLSFront(plan, backend.effective_port, per_client)
    app.extensions["fieldsync.tls_front"] = front.client_of
    threading.Thread(target=front.serve_forever, name="fieldsync-tls", daemon=True).start()
    backend.run()
