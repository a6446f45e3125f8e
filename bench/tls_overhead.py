"""What the TLS front of `serve --tls` costs per request, against waitress alone, in one run.

Usage: python bench/tls_overhead.py [REQUESTS]. Starts two real servers on loopback
(plain, then --tls) on a fresh demo instance, sends REQUESTS GETs over one kept-alive
connection and 50 on new connections to each, and prints rates and latencies.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import free_port

NEW_CONNECTIONS = 50


def measure(instance: Path, tls: bool, count: int) -> str:
    port = free_port()
    scheme = "https" if tls else "http"
    server = subprocess.Popen([sys.executable, "-m", "fieldsync", "--instance", str(instance), "serve",
                               "--host", "127.0.0.1", "--port", str(port), *(["--tls"] if tls else [])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, verify = f"{scheme}://127.0.0.1:{port}/api/v1/health", str(instance / "tls" / "cert.pem")
    verify = verify if tls else True
    try:
        session = requests.Session()
        for _ in range(200):
            try:
                session.get(url, timeout=1, verify=verify)
                break
            except (requests.ConnectionError, OSError):  # not listening, or certificate not made yet
                time.sleep(0.05)
        latencies = []
        started = time.perf_counter()
        for _ in range(count):
            sent = time.perf_counter()
            session.get(url, timeout=5, verify=verify).raise_for_status()
            latencies.append(time.perf_counter() - sent)
        rate = count / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(NEW_CONNECTIONS):
            requests.get(url, timeout=5, verify=verify).raise_for_status()
        fresh = (time.perf_counter() - started) / NEW_CONNECTIONS
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    return (f"{scheme:5}  {rate:7.0f} req/s  median {statistics.median(latencies) * 1000:.2f} ms  "
            f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.2f} ms  new connection {fresh * 1000:.1f} ms")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "node"
        subprocess.run([sys.executable, "-m", "fieldsync", "--instance", str(instance), "demo"],
                       check=True, stdout=subprocess.DEVNULL)
        for tls in (False, True):
            print(measure(instance, tls, count))


if __name__ == "__main__":
    main()
