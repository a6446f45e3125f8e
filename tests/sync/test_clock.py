"""A laptop whose clock is 7 minutes fast: after any sync, a server already running records scans
by the hub's clock, whichever process synced (failure case 5).

The hub runs with the true time; the node's server and `fieldsync sync` run with the laptop's clock
7 minutes fast (the FIELDSYNC_FAKE_CLOCK_OFFSET_SECONDS test hook of fieldsync/store/hlc.py).
"""

from __future__ import annotations

import time
from datetime import datetime

import requests

from fieldsync.store.hlc import FAKE_CLOCK_ENV
from fieldsync.sync.upstream.client import SERVER_TIME_HEADER
from tests.support import LiveServer, WebClient, run_cli
from tests.sync.conftest import TOWN_A

FAST = {FAKE_CLOCK_ENV: "420"}
FEW_SECONDS_MS = 10_000


def hub_clock(cluster) -> int:
    """The hub's time in ms, from the header every sync answer carries."""
    return int(requests.get(cluster.hub.url + "/api/v1/sync/pull", timeout=10).headers[SERVER_TIME_HEADER])


def scan_time(trainer: WebClient, laptop, nth: int) -> int:
    """The nth person's manual check-in through the node's server, with no time sent: the server's
    clock says when."""
    session = laptop.query("SELECT id FROM sessions WHERE kind = 'training'")[0]["id"]
    person = laptop.query("SELECT id FROM people ORDER BY id LIMIT 1 OFFSET ?", [nth])[0]["id"]
    answer = trainer.post("/api/v1/checkins", json={"session": session, "person": person})
    assert answer.status_code == 201, answer.text
    return round(datetime.fromisoformat(answer.json()["checkin"]["scanned_at"]).timestamp() * 1000)


def test_after_a_command_line_sync_a_running_server_scans_by_the_hubs_clock(cluster):
    laptop = cluster.add_node(TOWN_A)
    laptop.close_store()
    server = LiveServer(laptop.instance, env=FAST).start()
    laptop.server = server   # queries now open the database beside the running server
    try:
        trainer = WebClient(server.url)
        assert trainer.login("trainer").ok
        before = hub_clock(cluster)
        assert scan_time(trainer, laptop, 0) - before > 400_000     # not synced yet: the laptop's own clock

        run_cli(laptop.instance, "sync", env=FAST)
        time.sleep(1.1)   # the server looks for a newer sync of its database at most once a second
        before = hub_clock(cluster)
        scanned = scan_time(trainer, laptop, 1)
        after = hub_clock(cluster)
        assert before - FEW_SECONDS_MS <= scanned <= after + FEW_SECONDS_MS, (scanned - before, after - scanned)
    finally:
        server.stop()
        laptop.server = None
