"""A Flask test client on a real instance folder, signed in: for pages that need no second process.

The test client runs each request in the test's own thread, so what a request sets for itself
(the account's units, records/scope.py) would stay set for the tests after it: each request
here clears it again, as the next request of a server thread would."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from fieldsync.records import scope
from fieldsync.server import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """The test client, with the session's CSRF token for forms."""

    def __init__(self, flask_client):
        self.flask = flask_client
        self.csrf = CSRF.search(self.get("/login").text).group(1)

    def login(self, username: str, password: str) -> None:
        answer = self._done(self.flask.post("/login", data={"username": username, "password": password,
                                                             "csrf_token": self.csrf}))
        assert answer.status_code in (302, 303), answer.text[:300]
        with self.flask.session_transaction() as session:   # a sign-in starts a new session
            self.csrf = session["csrf"]

    def get(self, path: str, **kwargs):
        return self._done(self.flask.get(path, **kwargs))

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self._done(self.flask.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs))

    @staticmethod
    def _done(answer):
        scope.set_units(None, None)   # no limit, as outside any request
        return answer


@contextmanager
def signed_in(instance: Path, username: str, password: str):
    """A client of the instance (its mode from its config) signed in as `username`."""
    app = create_app({"TESTING": True}, instance=instance)
    try:
        client = Client(app.test_client())
        client.login(username, password)
        yield client
    finally:
        app.extensions["fieldsync.store"].close()
