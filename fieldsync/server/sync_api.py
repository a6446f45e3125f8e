"""The sync API under /api/v1/sync: enroll, push and pull on the hub; run and status on a node.

Every answer carries the hub's clock (`server_time` in the body, epoch ms in
the Fieldsync-Server-Time header, errors included). Requests state their
protocol version; one the hub does not speak gets 426 with the range it does.
Node calls authenticate with the bearer token from enrollment.
"""

from __future__ import annotations

import gzip
from functools import wraps
from pathlib import Path

from flask import Blueprint, Flask, current_app, g, request

from fieldsync import PROTOCOL_VERSION
from fieldsync.errors import BadRequest, Gone, Unauthorized, UpgradeRequired
from fieldsync.i18n import _
from fieldsync.records import badges
from fieldsync.records.schemas import load
from fieldsync.records.validators import whole_number, whole_number_or_none
from fieldsync.server import extensions
from fieldsync.server.auth import require
from fieldsync.server.extensions import get_store
from fieldsync.server.http import MAX_JSON_BYTES, json_body
from fieldsync.server.openapi import doc
from fieldsync.store.clock import utc_now
from fieldsync.store.hlc import wall_ms
from fieldsync.sync import enrollment, hublog
from fieldsync.sync.downstream import certificates, receive
from fieldsync.sync.protocol import (
    MIN_PROTOCOL,
    NODE_TIME_HEADER,
    PROTOCOL_HEADER,
    EnrollSchema,
    PullQuery,
    protocol_ok,
)
from fieldsync.sync.upstream import node
from fieldsync.sync.upstream.client import SERVER_TIME_HEADER

hub_bp = Blueprint("sync_hub", __name__, url_prefix="/api/v1/sync")
node_bp = Blueprint("sync_node", __name__, url_prefix="/api/v1/sync")
GZIP_ABOVE = 1024


def init_app(app: Flask) -> None:
    if app.config["MODE"] == "hub":
        app.extensions[extensions.BEARER_RESOLVERS].append(resolve_node_token)
        app.register_blueprint(hub_bp)
    else:
        app.register_blueprint(node_bp)


def resolve_node_token(token: str) -> dict | None:
    return enrollment.resolve_token(get_store(), token)


@hub_bp.before_request
def _speaks_our_protocol():
    sent = request.headers.get(PROTOCOL_HEADER, "")
    if not protocol_ok(whole_number_or_none(sent, max_digits=4)):
        raise UpgradeRequired(
            _("This hub speaks sync protocol %(low)s to %(high)s; the request said %(sent)s (%(header)s header). "
              "Install the fieldsync version the hub runs.", low=MIN_PROTOCOL, high=PROTOCOL_VERSION,
              sent=sent[:20] or _("nothing"), header=PROTOCOL_HEADER),
            code="protocol_unsupported", extra={"min_protocol": MIN_PROTOCOL, "max_protocol": PROTOCOL_VERSION})


@hub_bp.after_request
@node_bp.after_request
def _stamp_and_compress(response):
    response.headers[SERVER_TIME_HEADER] = str(wall_ms())
    if (response.status_code == 200 and len(response.get_data()) > GZIP_ABOVE
            and "gzip" in request.headers.get("Accept-Encoding", "")):
        response.set_data(gzip.compress(response.get_data(), 6))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    return response


def node_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        principal = g.get("principal")
        if principal is None or principal.get("kind") != "node":
            raise Unauthorized(_("Sync calls need the node token from enrollment (Authorization: Bearer)."),
                               code="node_token_required")
        g.node_time_ms = _node_time_ms()
        return view(*args, **kwargs)
    return wrapper


def _node_time_ms() -> int | None:
    """The laptop's own clock (epoch ms), only to show its skew: absent is fine, garbage is a 400."""
    sent = request.headers.get(NODE_TIME_HEADER)
    if sent is None:
        return None
    try:
        return whole_number(sent, max_digits=15)
    except ValueError as exc:
        raise BadRequest(_("%(header)s must be epoch milliseconds: %(problem)s", header=NODE_TIME_HEADER, problem=exc),
                         code="bad_header",
                         fields={NODE_TIME_HEADER: [str(exc)]}) from None


@hub_bp.post("/enroll")
@doc("Exchange a one-time enrollment code for a node id and token; registers the laptop's public keys.",
     body=EnrollSchema, auth="none")
def enroll():
    data = load(EnrollSchema(), json_body(limit=64 * 1024))
    if not protocol_ok(data["protocol"]):
        raise UpgradeRequired(_("This hub does not speak the laptop's protocol version."), code="protocol_unsupported",
                              extra={"min_protocol": MIN_PROTOCOL, "max_protocol": PROTOCOL_VERSION})
    return {**enrollment.redeem(get_store(), data), "server_time": utc_now()}


@hub_bp.post("/push")
@node_required
@doc("Push one contiguous batch of a node's outbox (gzip JSON). Replays get the same acknowledgement; "
     "a gap answers 409 with expected_from; a changed batch 409 divergent.",
     responses={"409": {"description": "gap (expected_from) or divergent"},
                "413": {"description": "body or batch too large: halve the batch"},
                "426": {"description": "protocol version not accepted"}})
def push():
    store = get_store()
    principal = g.principal
    body = json_body(limit=current_app.config.get("SYNC_MAX_BODY", MAX_JSON_BYTES))
    node_time, now = g.node_time_ms, wall_ms()
    ack = receive.receive(store, {"id": principal["node_id"], "name": principal["name"],
                                  "origin": principal["origin"]}, body,
                          also=lambda db: enrollment.touch(db, principal["node_id"], node_time, now))
    return {**ack, "server_time": utc_now()}


@hub_bp.get("/pull")
@node_required
@doc("Changes after a cursor, scoped to the node's town (a child hub's: every town of its unit): people, sessions, forms, badge keys "
     "(with the hub's certificates), revocations; deletions and evictions as tombstones; and the hub's "
     "own key (hub_badge_key). 410 when the cursor is stale.",
     query=PullQuery, responses={"410": {"description": "cursor stale or expired: take a snapshot"}})
def pull():
    query = load(PullQuery(), request.args.to_dict())
    store = get_store()
    principal, node_time, now = g.principal, g.node_time_ms, wall_ms()
    hub_key = certificates.hub_key(store)

    def work(db):
        certificates.certify_keys(db, hub_key)
        hublog.before_pull(db)
        enrollment.touch(db, principal["node_id"], node_time, now, pulled=True)

    store.write(work)
    db = store.db
    after = hublog.parse_cursor(db, query["cursor"])
    if after > hublog.last_seq(db):
        # Past the end of the log: a hub restored from a backup, or a laptop that says so. This
        # laptop alone takes a snapshot; the epoch and every other laptop's cursor stay (decision 0051).
        store.write(lambda db: receive.audit(db, f"node:{principal['name']}", "ahead_of_hub", principal["node_id"],
                                             f"pull cursor {query['cursor'][:40]}, the log ends at "
                                             f"{hublog.last_seq(db)}"))
        raise Gone(code="cursor_ahead",
                   extra={"min_cursor": hublog.make_cursor(db, hublog.min_cursor(db))})
    speaks = whole_number_or_none(request.headers.get(PROTOCOL_HEADER, ""), max_digits=4) or 1
    changes, last, more = hublog.read_page(db, principal["town"], after, query["limit"],
                                           hub=principal.get("node_kind") == "hub", compact=speaks >= 2)
    return {"changes": changes, "cursor": hublog.make_cursor(db, last), "more": more,
            "hub_epoch": hublog.epoch(db), "min_cursor": hublog.make_cursor(db, hublog.min_cursor(db)),
            "hub_badge_key": badges.public_b64(hub_key), "server_time": utc_now()}


# -- node side ----------------------------------------------------------------------------------
@node_bp.post("/run")
@require("staff")
@doc("Sync now: push this laptop's records to the hub, then pull; answers the summary.")
def run_sync():
    store = get_store()
    summary = node.sync(store, Path(current_app.instance_path))
    return {"summary": summary.text(), "pushed": summary.push.pushed, "pulled": summary.pull.pulled,
            "rejected": summary.push.rejected, "status": node.status(store, Path(current_app.instance_path))}


@node_bp.get("/status")
@require("trainer", kinds=("user", "station"))
@doc("This laptop's sync status: last success, records waiting, last error, how far a running sync got "
     "(`syncing`), and the pages' sync line in the reader's language (`line`).")
def sync_status():
    from fieldsync.server.sync_banner import banner

    status = node.status(get_store(), Path(current_app.instance_path))
    return {**status, "line": banner(status)}
