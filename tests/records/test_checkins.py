"""check_in decides every scan: these cases are the kiosk's whole vocabulary."""

from __future__ import annotations

import threading

import pytest

from fieldsync.errors import NotFound
from fieldsync.parts import open_store
from fieldsync.records import badges, checkins, people, sessions
from fieldsync.store import new_id
from tests.support import hold_the_writer, wait_until_queued


@pytest.fixture
def today(store):
    return next(s for s in sessions.listing(store) if s["kind"] == "training")


@pytest.fixture
def person(store):
    return people.search(store, limit=1)[0]


def scan(store, session, code, **kw):
    return checkins.check_in(store, session_id=session["id"], code=code, **kw)


def test_valid_badge_checks_in_once_then_says_already(store, today, person):
    code = badges.issue(store, person)
    first = scan(store, today, code)
    assert first.status == checkins.OK and first.person["name"] == person["name"]
    again = scan(store, today, code)
    assert again.status == checkins.ALREADY
    assert again.since == first.checkin["scanned_at"]
    rows = store.query("SELECT * FROM checkins WHERE session_id = ? AND person_id = ?",
                       [today["id"], person["id"]])
    assert len(rows) == 1


def test_checkin_writes_its_outbox_row_in_the_same_transaction(store, today, person):
    result = scan(store, today, badges.issue(store, person))
    change = store.query_one("SELECT * FROM changes WHERE entity = 'checkins' AND record_id = ?",
                             [result.checkin["id"]])
    assert change is not None and change["hlc"] == result.checkin["hlc"]


def test_retry_with_same_client_id_answers_the_same_and_records_once(store, today, person):
    code, client_id = badges.issue(store, person), new_id()
    first = scan(store, today, code, client_id=client_id)
    second = scan(store, today, code, client_id=client_id)
    assert first.status == second.status == checkins.OK
    assert second.replay and second.checkin["id"] == first.checkin["id"] == client_id
    assert store.query_one("SELECT COUNT(*) AS n FROM checkins WHERE session_id = ?", [today["id"]])["n"] == 1


@pytest.mark.parametrize("tamper", [
    lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),          # last character (also its spare bits)
    lambda c: c[:100] + ("A" if c[100] != "A" else "B") + c[101:],  # signature altered
    lambda c: c[:10] + ("Q" if c[10] != "Q" else "R") + c[11:],  # person id altered
    lambda c: c[:-8],                                             # truncated
    lambda c: "FS1:" + "A" * 135,                                 # made up
])
def test_altered_or_forged_badges_are_invalid_and_not_recorded(store, today, person, tamper):
    result = scan(store, today, tamper(badges.issue(store, person)))
    assert result.status == checkins.INVALID
    assert store.query_one("SELECT COUNT(*) AS n FROM checkins WHERE session_id = ?", [today["id"]])["n"] == 0
    assert store.query_one("SELECT result FROM scan_log ORDER BY id DESC LIMIT 1")["result"] == "invalid"


def test_badge_signed_by_a_key_we_do_not_know_is_invalid(store, today, person, tmp_path):

    with open_store(tmp_path / "other.db") as other:
        foreign = badges.issue(other, person)  # another installation's key
    assert scan(store, today, foreign).status == checkins.INVALID


def test_reissue_revokes_the_old_badge_and_the_new_one_works(store, today, person):
    old = badges.issue(store, person)
    new = badges.reissue(store, person["id"])
    assert scan(store, today, old).status == checkins.REVOKED
    assert scan(store, today, new).status == checkins.OK


def test_cancelled_person_is_refused(store, today, person):
    code = badges.issue(store, person)
    people.cancel(store, person["id"])
    assert scan(store, today, code).status == checkins.CANCELLED


def test_text_that_is_no_badge_offers_walk_in(store, today):
    assert scan(store, today, "13800138000").status == checkins.UNKNOWN


def test_check_out_needs_a_check_in_then_re_entry_is_allowed(store, today, person):
    code = badges.issue(store, person)
    assert scan(store, today, code, direction="out").status == checkins.NOT_IN
    assert scan(store, today, code).status == checkins.OK
    assert scan(store, today, code, direction="out").status == checkins.OK
    assert scan(store, today, code).status == checkins.OK
    (row,) = checkins.attendees(store, today["id"])
    assert row["scans"] == 3 and row["state"] == "in" and row["last_out"]


def test_manual_check_in_of_unknown_person_is_not_found(store, today):
    with pytest.raises(NotFound):
        checkins.check_in(store, session_id=today["id"], person_id=new_id())


def test_badge_of_person_not_on_this_roster_is_recorded_as_foreign(store, today, person):
    from ulid import ULID

    stranger = {**person, "id": str(ULID())}
    result = scan(store, today, badges.issue(store, stranger))
    assert result.status == checkins.OK and result.checkin["flags"] == "foreign"


def test_badge_qr_is_small_and_carries_no_personal_data(store, person):
    code = badges.issue(store, person)
    assert badges.qr_version(code) <= 7
    assert person["name"] not in code and (person["phone"] or "x") not in code
    assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567:FS1")


def scan_together(store, scans: list[dict]) -> list:
    """Queue the scans behind a held writer so they reach it as one group; their answers
    (or the exceptions raised) in the same order."""
    release, holder = hold_the_writer(store)
    answers: list = [None] * len(scans)

    def one(index, kwargs):
        try:
            answers[index] = checkins.check_in(store, **kwargs)
        except Exception as exc:  # noqa: BLE001 -- the test looks at what each caller got
            answers[index] = exc

    threads = []
    for index, kwargs in enumerate(scans):   # one at a time, so the queue keeps this order
        threads.append(threading.Thread(target=one, args=(index, kwargs)))
        threads[-1].start()
        wait_until_queued(store, index + 1)
    release.set()
    [t.join() for t in threads]
    holder.join()
    return answers


def test_scans_reaching_the_writer_together_are_decided_in_order(store, today, person):
    code = badges.issue(store, person)
    others = people.search(store, limit=6)[1:]
    retried = new_id()
    answers = scan_together(store, [
        {"session_id": today["id"], "code": code, "direction": "out"},         # not in yet
        {"session_id": today["id"], "code": code, "client_id": retried},       # in
        {"session_id": today["id"], "code": code},                             # already, since the one above
        {"session_id": today["id"], "code": code, "client_id": retried},       # a retry of the second
        {"session_id": "no-such-session", "code": code},                       # fails alone
        *({"session_id": today["id"], "code": badges.issue(store, p)} for p in others),
        {"session_id": today["id"], "code": code, "direction": "out"},         # out, after the in
        {"session_id": today["id"], "code": code},                             # in again
    ])
    statuses = [a.status if isinstance(a, checkins.ScanResult) else type(a).__name__ for a in answers]
    assert statuses == ["not_in", "ok", "already", "ok", "NotFound", *["ok"] * len(others), "ok", "ok"]
    assert answers[2].since == answers[1].checkin["scanned_at"]
    assert answers[3].replay and answers[3].checkin == answers[1].checkin
    stored = store.query("SELECT id, person_id, direction FROM checkins WHERE session_id = ? ORDER BY hlc",
                         [today["id"]])
    mine = [(r["id"], r["direction"]) for r in stored if r["person_id"] == person["id"]]
    assert mine == [(retried, "in"), (answers[-2].checkin["id"], "out"), (answers[-1].checkin["id"], "in")]
    assert len(stored) == 3 + len(others)
    changes = store.query("SELECT created_at FROM changes WHERE entity = 'checkins' AND record_id IN"
                          f" ({','.join('?' * len(stored))})", [r["id"] for r in stored])
    assert len(changes) == len(stored) and len({c["created_at"] for c in changes}) == 1, \
        "one group, one statement per table"
    logged = store.query_one("SELECT COUNT(*) AS n FROM scan_log WHERE session_id = ?", [today["id"]])["n"]
    assert logged == len(answers) - 2   # the retry and the failed session are not logged again


def test_a_revocation_counts_from_its_commit_even_for_a_key_the_kiosk_remembers(store, today, person):
    code = badges.issue(store, person)
    assert scan(store, today, code).status == checkins.OK           # the key is now remembered
    badges.reissue(store, person["id"])
    assert scan(store, today, code).status == checkins.REVOKED
    key_id = badges.signing_key(store)[0]
    store.write(lambda db: db.execute("UPDATE badge_keys SET revoked_at = '2026-01-01' WHERE key_id = ?", [key_id]))
    other = people.search(store, limit=2)[1]
    refused = scan(store, today, badges.issue(store, other))
    assert (refused.status, refused.reason) == (checkins.REVOKED, "key_revoked")


def test_a_key_replaced_after_the_kiosk_remembered_it_is_checked_again(store, today, person, tmp_path):

    code = badges.issue(store, person)
    assert scan(store, today, code).status == checkins.OK
    key_id = badges.signing_key(store)[0]
    with open_store(tmp_path / "other.db") as other:   # another key under the same key id
        badges.signing_key(other)
        foreign_public = other.query_one("SELECT public_key FROM badge_keys")["public_key"]
    store.write(lambda db: db.execute("UPDATE badge_keys SET public_key = ? WHERE key_id = ?",
                                      [foreign_public, key_id]))
    assert scan(store, today, code, direction="out").status == checkins.INVALID
