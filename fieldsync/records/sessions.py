"""Sessions: trainings, volunteer activities, theme-day events, fitness monitoring.

A session carries the 统计表 columns (举办单位, 活动名称, 活动简介, 举办方式,
举办时间, 联系人, 联系方式, 备注) and the hours it credits to volunteers. Every read
and write asks records/scope.py whether the account at work may touch its town.
"""

from __future__ import annotations

from datetime import datetime

from fieldsync.errors import Conflict, NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import mutable, places, scope
from fieldsync.store import Store, new_id

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
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, session_id, fields,
                                                     actor=actor, action="modify"))


def cancel(store: Store, session_id: str, *, actor: str | None = None) -> dict:
    current = get(store, session_id)
    if current["status"] == "cancelled":
        raise Conflict(_("Session %(title)s is already cancelled.", title=current["title"]), code="already_cancelled")
    return store.write(lambda db: mutable.save_local(db, store.hlc, TABLE, session_id,
                                                     {"status": "cancelled"}, actor=actor,
                                                     action="cancel"))


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
    in_scope, scope_params = scope.clause()
    if in_scope:
        where.append(in_scope)
        params += scope_params
    sql = "SELECT s.*, (SELECT COUNT(DISTINCT person_id) FROM checkins c WHERE c.session_id = s.id" \
          " AND c.direction = 'in') AS attendees FROM sessions s"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.query(sql + " ORDER BY starts_at DESC LIMIT ?", params + [limit])


def office_counts(store: Store) -> dict:
    """The start page's figures: people, certified instructors, sessions, check-ins."""
    return store.query_one(
        "SELECT (SELECT COUNT(*) FROM people WHERE status = 'active') AS people,"
        " (SELECT COUNT(*) FROM people WHERE status = 'active' AND level != 'none') AS instructors,"
        " (SELECT COUNT(*) FROM sessions WHERE status = 'active') AS sessions,"
        " (SELECT COUNT(*) FROM checkins) AS checkins")


def history(store: Store, session_id: str) -> list[dict]:
    return mutable.history(store.db, TABLE, session_id)

