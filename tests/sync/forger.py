"""A hostile town laptop: its own enrolled identity (token, origin), pushes made by hand.

Whoever copies hub_credentials.json off a stolen laptop can send any change naming any
record id. `Forger` builds such pushes in the wire format of a real laptop (row-wise
changes, columnar blocks), on a stream of its own (a new replica), so that the hub's
policy, not the laptop's own code, is what stands between it and other towns' records.
"""

from __future__ import annotations

import json
import secrets
import time

from fieldsync import PROTOCOL_VERSION
from fieldsync.forms.wire import SUBMISSION_COLUMNS
from fieldsync.store import new_id
from fieldsync.sync import columnar, entities
from fieldsync.sync.upstream.client import HubClient, gzip_json


class Forger:
    def __init__(self, origin: str):
        self.origin, self.replica, self.seq, self.ticks = origin, secrets.token_hex(8), 0, 0
        self.changes: list[dict] = []
        self.rows: dict[str, list[dict]] = {"checkins": [], "submissions": []}

    def hlc(self) -> str:
        self.ticks += 1
        return f"{int(time.time() * 1000):016d}-{self.ticks:05d}-{self.origin}"

    # -- what a change can be ---------------------------------------------------------------------
    def upsert(self, entity: str, record_id: str, fields: dict, *, action: str = "sync") -> Forger:
        stamp = self.hlc()
        self.changes.append({"change_id": new_id(), "entity": entity, "record_id": record_id, "op": "upsert",
                             "hlc": stamp, "payload": {"fields": fields, "hlcs": {k: stamp for k in fields},
                                                       "base": {}, "origin": self.origin, "action": action}})
        return self

    def delete(self, entity: str, record_id: str) -> Forger:
        self.changes.append({"change_id": new_id(), "entity": entity, "record_id": record_id, "op": "delete",
                             "hlc": self.hlc(), "payload": {}})
        return self

    def revoke(self, person_id: str) -> Forger:
        stamp = self.hlc()
        self.changes.append({"change_id": new_id(), "entity": "badge_revocations", "record_id": person_id,
                             "op": "upsert", "hlc": stamp,
                             "payload": {"person_id": person_id, "min_generation": 99, "reason": "lost",
                                         "hlc": stamp, "revoked_at": "2026-01-05T09:00:00.000Z"}})
        return self

    def checkin(self, session_id: str, person_id: str) -> str:
        checkin_id = new_id()
        self.rows["checkins"].append({
            "id": checkin_id, "session_id": session_id, "person_id": person_id, "badge_key": None,
            "badge_generation": None, "direction": "in", "scanned_at": columnar.iso_ms(int(time.time() * 1000)),
            "hlc": self.hlc(), "node": self.origin, "station": "forged", "method": "manual", "flags": ""})
        return checkin_id

    def submission(self, form: tuple[str, int], session_id: str | None, person_id: str | None) -> str:
        submission_id = new_id()
        self.rows["submissions"].append({
            "id": submission_id, "form_id": form[0], "form_version": form[1], "session_id": session_id,
            "person_id": person_id, "data": json.dumps({}), "hlc": self.hlc(), "node": self.origin,
            "submitted_at": columnar.iso_ms(int(time.time() * 1000)), "actor": "forged", "flags": ""})
        return submission_id

    # -- the push ------------------------------------------------------------------------------------
    def body(self) -> dict:
        """Everything added since the last body, as one batch; starts the next one after it."""
        first = self.seq + 1
        changes = []
        for change in self.changes:
            self.seq += 1
            changes.append({"seq": self.seq, **change})
        blocks = {}
        for name, rows in self.rows.items():
            if rows:
                columns = entities.get(name).columns if name == "checkins" else SUBMISSION_COLUMNS
                seqs = list(range(self.seq + 1, self.seq + 1 + len(rows)))
                self.seq += len(rows)
                blocks[name] = columnar.encode(seqs, {c: [row[c] for row in rows] for c in columns}, columns)
        self.changes, self.rows = [], {"checkins": [], "submissions": []}
        return {"protocol": PROTOCOL_VERSION, "replica": self.replica, "origin": self.origin, "hub_epoch": None,
                "acked_to": 0, "batch_id": new_id(), "from_seq": first, "to_seq": self.seq,
                "blocks": blocks, "changes": changes}

    def push(self, hub_url: str, token: str) -> dict:
        """Send the batch as the laptop would (gzip JSON, its bearer token); the hub's answer."""
        return HubClient(hub_url, token).push(gzip_json(self.body()))
