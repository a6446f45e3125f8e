"""The node's HTTP client for the hub (requests): gzip bodies, protocol headers, clock offset.

Every failure becomes a FieldsyncError: HubUnreachable when no answer came
(nothing is known about the request's fate), HubError carrying the hub's own
error code, message and details otherwise.
"""

from __future__ import annotations

import gzip
import json
import threading
from http import HTTPStatus

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from fieldsync import PROTOCOL_VERSION, __version__
from fieldsync.errors import HubError, HubUnreachable
from fieldsync.i18n import _, language
from fieldsync.records.validators import whole_number_or_none
from fieldsync.store.hlc import wall_ms
from fieldsync.sync.protocol import (
    NODE_TIME_HEADER,
    PROTOCOL_HEADER,
    SCHEMA_HEADER,
    WIRE_SCHEMA,
)

SERVER_TIME_HEADER = "Fieldsync-Server-Time"
# connect, read (seconds without a byte from the hub). A hub answers a batch in about a second,
# a few when a month-end rush queues it behind others'; one that accepts the connection and
# then says nothing (a hung proxy) must not hold "Sync now" for minutes. Giving up early is
# safe: the batch goes again and the hub answers it as a replay.
TIMEOUT = (5, 60)


class HubClient:
    def __init__(self, hub_url: str, token: str | None = None, *, timeout=TIMEOUT):
        self.hub_url = hub_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update({PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(WIRE_SCHEMA),
                                  "User-Agent": f"fieldsync/{__version__}",
                                  "Accept-Language": language()})   # the hub's messages in ours
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self.clock_offset_ms: int | None = None   # hub time minus ours, from the last answer
        self.bytes_sent = 0
        self.bytes_received = 0
        self.reached = False     # a connection to the hub was made (a cut one counts; a refused one not)
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, *, body: bytes | None = None, params=None) -> dict:
        headers = {NODE_TIME_HEADER: str(wall_ms())}
        if body is not None:
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        sent = wall_ms()
        try:
            response = self.http.request(method, self.hub_url + path, data=body, params=params,
                                         headers=headers, timeout=self.timeout, stream=True)
        except requests.RequestException as exc:
            self.reached = self.reached or not _at_connect(exc)
            raise HubUnreachable(_("The hub at %(url)s could not be reached (%(problem)s).", url=self.hub_url,
                                   problem=type(exc).__name__),
                                 extra={"detail": str(exc)[:300]}) from None
        self.reached = True
        try:
            content = response.content
        except requests.RequestException as exc:
            # The status line came, the body did not: say what is known rather than a parse error.
            raise HubUnreachable(_("The hub answered %(status)s (%(phrase)s), but the rest of its answer was cut off "
                                   "on the way.", status=response.status_code, phrase=_phrase(response.status_code)),
                                 extra={"detail": str(exc)[:300], "hub_status": response.status_code}) from None
        with self._lock:   # a push has more than one batch at the hub at once
            self._learn_clock(response, sent, wall_ms())
            self.bytes_sent += len(body or b"") + _header_bytes(response.request.headers)
            self.bytes_received += int(response.raw.tell() if response.raw else len(content)) \
                + _header_bytes(response.headers)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400 or not isinstance(data, dict):
            error = (data or {}).get("error") if isinstance(data, dict) else None
            if not isinstance(error, dict):
                raise HubError(_("The hub answered %(status)s without an explanation.", status=response.status_code),
                               status=response.status_code, code="hub_error")
            extra = {k: v for k, v in error.items() if k not in ("code", "message", "fields")}
            raise HubError(error.get("message") or _("The hub refused the request."), code=error.get("code"),
                           status=response.status_code, fields=error.get("fields"), extra=extra)
        return data

    def _learn_clock(self, response, sent: int, received: int) -> None:
        server = whole_number_or_none(response.headers.get(SERVER_TIME_HEADER, ""), max_digits=15)
        if server is not None:
            self.clock_offset_ms = server - (sent + received) // 2

    def enroll(self, request: dict) -> dict:
        return self._call("POST", "/api/v1/sync/enroll", body=gzip_json({**request, "protocol": PROTOCOL_VERSION}))

    def push(self, body: bytes) -> dict:
        return self._call("POST", "/api/v1/sync/push", body=body)

    def pull(self, cursor: str, limit: int | None = None) -> dict:
        params = {"cursor": cursor}
        if limit:
            params["limit"] = limit
        return self._call("GET", "/api/v1/sync/pull", params=params)


def _at_connect(exc: requests.RequestException) -> bool:
    """The connection itself failed (refused, no route, unknown name, timed out connecting): the
    hub is down or the network is, rather than a link that cut a connection it had made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


def gzip_json(obj, level: int = 6) -> bytes:
    return gzip.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), level)


def _header_bytes(headers) -> int:
    return sum(len(k) + len(str(v)) + 4 for k, v in headers.items()) + 20
