"""Sessions: trainings, volunteer activities, theme-day events, fitness monitoring.

A session carries the 统计表 columns (举办单位, 活动名称, 活动简介, 举办方式,
举办时间, 联系人, 联系方式, 备注), what the 临汾 notice asks of an activity (体育"六进"
venue, groups served, a safety plan on file), the theme day it serves (one of its
year's, records/theme_days.py) and the hours it credits to volunteers. Every read
and write asks records/scope.py whether the account at work may touch its town.
"""

from __future__ import annotations

from datetime import date, datetime

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import mutable, period_locks, places, scope, theme_days
from fieldsync.store import Store, clock, new_id
from fieldsync.store.clock import utc_now

TABLE = "sessions"


def _stored(data: dict) -> dict:
    out = dict(data)
    for key in ("starts_at", "ends_at"):
        if isinstance(out.get(key), datetime):
            out[key] = out[key].isoformat(timespec="minutes")
    return out


def _check_form(store: Store, form_id: str | None) -> None:
    if form_id and not store.query_one("SELECT 1 FROM forms WHERE id = ? AND published_at IS NOT NULL",
                                       [form_id]):
        raise ValidationFailed(_("No published form %(form)s.", form=form_id), fields={"form_id": [_("Unknown form.")]})


def create(store: Store, data: dict, *, actor: str | None = None, session_id: str | None = None) -> dict:
    scope.check(data["town"])
    places.check_village_in_town(store, data["town"], data.get("village"))
    _check_form(store, data.get("form_id"))
    fields = {**_stored(data), "status": "active"}
    period_locks.check_open(store.db, (fields["town"], fields.get("starts_at")))
    theme_days.check_tag(store.db, fields.get("theme_day"), fields.get("starts_at"))
    fields.setdefault("mode", "offline")
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, session_id or new_id(),
                                                     fields, actor=actor, action="create"))


def modify(store: Store, session_id: str, changes: dict, *, actor: str | None = None) -> dict:
    current = get(store, session_id)
    scope.check(changes.get("town", current["town"]))
    if "town" in changes or "village" in changes:
        places.check_village_in_town(store, changes.get("town", current["town"]),
                                     changes.get("village", current["village"]))
    _check_form(store, changes.get("form_id"))
    fields = _stored(changes)
    period_locks.check_open(store.db, (current["town"], current["starts_at"]),
                            (fields.get("town", current["town"]), fields.get("starts_at", current["starts_at"])))
    if fields.get("theme_day") or "starts_at" in fields:
        theme_days.check_tag(store.db, fields.get("theme_day", current["theme_day"]),
                             fields.get("starts_at", current["starts_at"]))
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, session_id, fields,
                                                     actor=actor, action="modify"))


def cancel(store: Store, session_id: str, *, actor: str | None = None) -> dict:
    current = get(store, session_id)
    if current["status"] == "cancelled":
        raise Conflict(_("Session %(title)s is already cancelled.", title=current["title"]), code="already_cancelled")
    period_locks.check_open(store.db, (current["town"], current["starts_at"]))
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, session_id,
                                                     {"status": "cancelled"}, actor=actor,
                                                     action="cancel"))


def mark_js365(store: Store, session_ids: list[str], *, actor: str) -> int:
    """已在全民健身信息服务平台填报: mark the sessions filed on js365 now, by actor (history action
    'js365'). A field like any other, so it syncs; a session marked before keeps its first mark.
    Every session must exist and be in the account's scope, or none is marked. Returns how many."""
    found = [get(store, session_id) for session_id in dict.fromkeys(session_ids)]
    fresh = [session["id"] for session in found if not session["js365_filed_at"]]
    period_locks.check_open(store.db, *((s["town"], s["starts_at"]) for s in found if s["id"] in fresh))

    def work(db) -> int:
        stamp = utc_now()
        for session_id in fresh:
            mutable.save_local(db, store.hlc, TABLE, session_id, {"js365_filed_at": stamp, "js365_filed_by": actor},
                               actor=actor, action="js365")
        return len(fresh)

    return store.write(work)


def get(store: Store, session_id: str) -> dict:
    row = store.query_one("SELECT * FROM sessions WHERE id = ?", [session_id])
    if row is None:
        raise NotFound(_("No session with id %(id)s.", id=session_id), code="session_not_found")
    scope.check(row["town"])
    return row


def listing(store: Store, *, town: str | None = None, kind: str | None = None,
            include_cancelled: bool = False, limit: int = 200) -> list[dict]:
    where, params = [], []
    if town:
        where.append("town = ?")
        params.append(town)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if not include_cancelled:
        where.append("status = 'active'")
    return _select(store, where, params, "starts_at DESC", limit)


def upcoming(store: Store, town: str, since: str, *, limit: int = 10) -> list[dict]:
    """Active sessions of a town starting from `since` (China time, as sessions hold it), soonest first."""
    return store.query("SELECT id, kind, title, organizer, starts_at, ends_at, mode FROM sessions"
                       " WHERE town = ? AND status = 'active' AND starts_at >= ? ORDER BY starts_at LIMIT ?",
                       [town, since, limit])


def _select(store: Store, where: list[str], params: list, order: str, limit: int) -> list[dict]:
    in_scope, scope_params = scope.clause()
    if in_scope:
        where, params = [*where, in_scope], [*params, *scope_params]
    sql = "SELECT s.*, (SELECT COUNT(DISTINCT person_id) FROM checkins c WHERE c.session_id = s.id" \
          " AND c.direction = 'in') AS attendees FROM sessions s"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.query(f"{sql} ORDER BY {order} LIMIT ?", [*params, limit])


def local_today(store: Store) -> date:
    """China's calendar day by the laptop's hub-corrected clock: session times are China's wall clock."""
    return clock.today(store.hlc.physical_ms())


DAYS = ("today", "upcoming", "past")
_LAST_DAY = "substr(COALESCE(ends_at, starts_at, ''), 1, 10)"


def day_of(session: dict, today: date) -> str:
    """'today' for a session running on that day (one over several days too), else 'upcoming' or 'past'."""
    day = today.isoformat()
    if (session.get("ends_at") or session.get("starts_at") or "")[:10] < day:
        return "past"
    return "upcoming" if (session.get("starts_at") or "")[:10] > day else "today"


def by_day(store: Store, today: date, *, limit: int = 50) -> dict[str, list[dict]]:
    """The kiosk's choice of sessions: today's, then those ahead (soonest first), then past ones
    (latest first). The wrong session is easy to pick from a list sorted newest first."""
    active = ["status = 'active'"]
    ahead = _select(store, [*active, f"{_LAST_DAY} >= ?"], [today.isoformat()], "starts_at", limit)
    past = _select(store, [*active, f"{_LAST_DAY} < ?"], [today.isoformat()], "starts_at DESC", limit)
    grouped: dict[str, list[dict]] = {day: [] for day in DAYS}
    for session in ahead + past:
        grouped[day_of(session, today)].append(session)
    return grouped


def office_counts(store: Store) -> dict:
    """The start page's figures: people, certified instructors, sessions, check-ins."""
    return store.query_one(
        "SELECT (SELECT COUNT(*) FROM people WHERE status = 'active') AS people,"
        " (SELECT COUNT(*) FROM people WHERE status = 'active' AND level != 'none') AS instructors,"
        " (SELECT COUNT(*) FROM sessions WHERE status = 'active') AS sessions,"
        " (SELECT COUNT(*) FROM checkins) AS checkins")


def history(store: Store, session_id: str) -> list[dict]:
    return mutable.history(store.db, TABLE, session_id)

