"""The self-signed certificate behind `serve --tls`: made once, remade only when the laptop moves."""

from __future__ import annotations

import ipaddress
import socket
import stat

import pytest
from cryptography import x509

from fieldsync.server.tls import ensure_certificate, lan_addresses, reachable_from_lan


def covered_ips(cert_path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} | set(names.get_values_for_type(x509.DNSName))


def test_certificate_is_kept_and_remade_with_the_same_key_for_a_new_address(tmp_path):
    cert, key = ensure_certificate(tmp_path, ["192.0.2.10"])
    assert {"127.0.0.1", "192.0.2.10", "localhost"} <= covered_ips(cert)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first_cert, first_key = cert.read_bytes(), key.read_bytes()

    ensure_certificate(tmp_path, ["192.0.2.10"])
    assert cert.read_bytes() == first_cert

    ensure_certificate(tmp_path, ["198.51.100.7"])
    assert cert.read_bytes() != first_cert and key.read_bytes() == first_key
    assert "198.51.100.7" in covered_ips(cert)


def test_lan_addresses_leave_out_loopback_and_link_local():
    found = ["127.0.0.1", "127.0.1.1", "169.254.3.4", "192.168.1.20", "10.0.0.5", "192.168.1.20"]
    assert reachable_from_lan(found) == ["10.0.0.5", "192.168.1.20"]


def test_this_machines_lan_addresses_are_its_own_and_reachable():
    found = lan_addresses()
    if not found:
        pytest.skip("this machine has no LAN address: nothing of its own to check")
    for address in found:
        ip = ipaddress.ip_address(address)
        assert ip.version == 4 and not ip.is_loopback and not ip.is_link_local, address
        with socket.socket() as probe:       # bound only if this machine holds the address; sends nothing
            probe.bind((address, 0))
