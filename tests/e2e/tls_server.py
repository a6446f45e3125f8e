"""`fieldsync serve --tls` in a child process, as the phones on the Wi-Fi would reach it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests

from tests.support import LiveServer, WebClient


class TLSLiveServer(LiveServer):
    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def certificate(self):
        return self.instance / "tls" / "cert.pem"

    def client(self) -> WebClient:
        """A WebClient that trusts this server's certificate, as a phone does once told to."""
        client = WebClient(self.url)
        client.http.verify = str(self.certificate)
        client.http.trust_env = False   # else REQUESTS_CA_BUNDLE, when set, overrides verify
        return client

    def start(self, timeout: float = 30) -> TLSLiveServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "fieldsync", "--instance", str(self.instance), "serve", "--tls",
                "--host", "127.0.0.1", "--port", str(self.port), "--threads", str(self.threads)]
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, "FIELDSYNC_AUTO_SYNC_SECONDS": "0", **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if self.certificate.exists() and requests.get(
                        self.url + "/api/v1/health", timeout=1, verify=str(self.certificate)).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")
