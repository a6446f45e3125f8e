"""Test helpers: real fieldsync servers in their own processes, HTTP clients that sign in, and the
in-process twin of those clients (AppClient) for tests that need no second process."""

from __future__ import annotations

import contextvars
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

DEMO_PASSWORD = "fieldsync-demo"


# Ports for servers the tests start: below Linux's ephemeral range (32768 up), so no client socket
# or bind(0) elsewhere takes one, and a range of its own for each pytest-xdist worker, taken in
# turn from a random start: two workers never pick the same port, and a worker never picks one it
# used earlier in the run (a port handed out twice could let the health poll find another test's
# server while ours is still starting).
PORTS_PER_WORKER, WORKER_RANGES = 500, 24      # 20000-31999


def _port_cycle():
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    first, start = 20000 + (worker % WORKER_RANGES) * PORTS_PER_WORKER, random.randrange(PORTS_PER_WORKER)
    while True:
        for n in range(PORTS_PER_WORKER):
            yield first + (start + n) % PORTS_PER_WORKER


_ports = _port_cycle()


def free_port() -> int:
    for _ in range(PORTS_PER_WORKER):
        port = next(_ports)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free loopback port in this worker's range")


def hold_the_writer(store) -> tuple[threading.Event, threading.Thread]:
    """Keep the store's writer busy so that writes queue up and reach it as one group.
    Set the event to let it go; join the thread after."""
    started, release = threading.Event(), threading.Event()

    def hold(db):
        started.set()
        release.wait(10)

    holder = threading.Thread(target=store.write, args=(hold,))
    holder.start()
    assert started.wait(10)
    return release, holder


def wait_until_queued(store, count: int) -> None:
    """Until `count` writes wait behind the held writer."""
    deadline = time.monotonic() + 10
    while store._queue.qsize() < count:
        assert time.monotonic() < deadline, "the writes did not queue"
        time.sleep(0.01)


def eventually(condition, seconds: float = 5.0) -> bool:
    """condition() once it holds, polled for up to `seconds`; its last value otherwise."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


# The CLI follows the system's language; tests read its English unless they set another.
ENGLISH_SYSTEM = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def run_cli(instance: Path, *args: str, input: str | None = None, check: bool = True,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m fieldsync --instance DIR ...` as a user would (a hub made with `init --hub`
    gets a PostgreSQL database of its own under that backend: tests/backends.py)."""
    if "init" in args and "--hub" in args and "--database" not in args:
        from tests.backends import hub_database

        database = hub_database()
        args = (*args, "--database", database) if database else args
    result = subprocess.run(
        [sys.executable, "-m", "fieldsync", "--instance", str(instance), *args],
        input=input, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **ENGLISH_SYSTEM, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"fieldsync {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


class LiveServer:
    """`fieldsync serve` in a child process on a loopback port. kill() is SIGKILL: no clean shutdown."""

    def __init__(self, instance: Path, *, hub: bool = False, env: dict | None = None, threads: int = 16,
                 tls: bool = False):
        self.instance = Path(instance)
        self.hub = hub
        self.tls = tls  # `serve --tls` on 127.0.0.1: https, trusted through `verify`
        self.env = env or {}
        self.threads = threads
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.instance / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> str | bool:
        """What requests should trust: the server's own self-signed certificate under --tls."""
        return str(self.instance / "tls" / "cert.pem") if self.tls else True

    def start(self, timeout: float = 30) -> LiveServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "fieldsync", "--instance", str(self.instance), "serve",
                "--port", str(self.port), "--threads", str(self.threads)]
        if self.hub:
            args.append("--hub")
        if self.tls:
            args += ["--tls", "--host", "127.0.0.1"]
        log = open(self.log_path, "ab")  # noqa: SIM115 -- the child writes to it after we return
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "FIELDSYNC_AUTO_SYNC_SECONDS": "0", **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1, verify=self.verify).ok:
                    return self
            except (requests.ConnectionError, OSError):  # OSError: no certificate file yet
                time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> LiveServer:
        self.kill()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def page_csrf(html: str) -> str | None:
    """The CSRF token a page hands its forms and scripts (the meta tag or a form field)."""
    found = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html)
    return found.group(1) if found else None


def field_error(html: str, field: str) -> str:
    """The error message a page shows inside the label of form field `field`, or ''."""
    label = re.search(rf'<label class="field invalid">(?:(?!</label>).)*?name="{field}"(?:(?!</label>).)*</label>',
                      html, re.DOTALL)
    return " ".join(re.findall(r'class="field-error"[^>]*>([^<]*)<', label.group(0))) if label else ""


class WebClient:
    """A person at a browser: signs in, keeps the cookie, sends the CSRF token."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf = ""

    def _refresh_csrf(self, html: str) -> None:
        self.csrf = page_csrf(html) or self.csrf

    def login(self, username: str, password: str = DEMO_PASSWORD) -> requests.Response:
        page = self.http.get(self.base_url + "/login", timeout=10)
        self._refresh_csrf(page.text)
        response = self.http.post(self.base_url + "/login", timeout=10, data={
            "username": username, "password": password, "csrf_token": self.csrf})
        self._refresh_csrf(response.text)
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self.base_url + path, timeout=kwargs.pop("timeout", 10), **kwargs)
        if "text/html" in response.headers.get("Content-Type", ""):
            self._refresh_csrf(response.text)
        return response

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.http.post(self.base_url + path, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.http.patch(self.base_url + path, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs)

    def form(self, path: str, data: dict, **kwargs) -> requests.Response:
        """Submit an HTML form the way a browser does (CSRF token as a field)."""
        return self.http.post(self.base_url + path, data={"csrf_token": self.csrf, **data},
                              timeout=kwargs.pop("timeout", 10), **kwargs)


UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class AppClient(FlaskClient):
    """WebClient's twin in this process: Flask's test client on a real app (real SQLite file).

    Made by `app.test_client()` (tests/conftest.py sets it as the app's test client class). Like
    WebClient, and like a browser, it follows redirects unless told `follow_redirects=False`, keeps
    the cookie, takes the CSRF token from each HTML page it gets, and sends it as X-CSRF-Token with
    every unsafe request (`form()` sends it as a form field, as a page's form does). To send a
    request without the token, pass `headers={"X-CSRF-Token": ""}`. Answers are Flask's
    TestResponse: `.status_code`, `.text`, `.data`, `.json` (a property), `.headers`.
    """

    csrf = ""

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], (EnvironBuilder, dict, Request)):
            return super().open(*args, **kwargs)          # a redirect being followed
        kwargs.setdefault("follow_redirects", True)
        if kwargs.get("method", "GET") in UNSAFE and not kwargs.pop("token_in_form", False):
            kwargs["headers"] = {"X-CSRF-Token": self.csrf, **(kwargs.get("headers") or {})}
        # Each request in a context of its own, as in a server's thread: what the app keeps in
        # context variables for a request (the account's units, records/scope.py) must not stay
        # set for the test's own calls after it. The body is read in that context too (buffered:
        # a streamed download needs its request). So `with client:` keeps no context here.
        kwargs.setdefault("buffered", True)
        response = contextvars.copy_context().run(super().open, *args, **kwargs)
        if response.mimetype == "text/html":
            self.csrf = page_csrf(response.text) or self.csrf
        return response

    def login(self, username: str, password: str = DEMO_PASSWORD):
        self.get("/login")
        return self.form("/login", {"username": username, "password": password})

    def logout(self):
        return self.form("/logout", {})

    def form(self, path: str, data: dict, **kwargs):
        """Submit an HTML form the way a browser does (CSRF token as a field, no header)."""
        return self.post(path, data={"csrf_token": self.csrf, **data}, token_in_form=True, **kwargs)


@dataclass
class Site:
    """An app in this process on its instance folder: what a page test needs of a server.
    `ids` names the records a fixture built (tests/reports/fixture.py's city)."""

    app: Flask
    instance: Path
    ids: dict = field(default_factory=dict)

    def client(self) -> AppClient:
        return self.app.test_client()

    def signed_in(self, username: str, password: str = DEMO_PASSWORD) -> AppClient:
        """A fresh client signed in as `username`."""
        client = self.client()
        answer = client.login(username, password)
        assert answer.status_code == 200 and answer.request.path != "/login", answer.text
        return client


@contextmanager
def in_process(instance: Path, ids: dict | None = None, **config) -> Iterator[Site]:
    """create_app() on `instance` (node or hub, as its config says) in this process, clients
    AppClient; its store closed after."""
    from fieldsync.server import create_app

    app = create_app({"TESTING": True, "AUTO_SYNC_SECONDS": 0, **config}, instance=instance)
    app.test_client_class = AppClient
    try:
        yield Site(app, Path(instance), ids or {})
    finally:
        app.extensions["fieldsync.store"].close()


@contextmanager
def signed_in(instance: Path, username: str, password: str = DEMO_PASSWORD) -> Iterator[AppClient]:
    """A client of the instance (node or hub, as its config says) in this process, signed in."""
    with in_process(instance) as site:
        yield site.signed_in(username, password)
