"""Which towns the account at work may touch: the one rule for people and sessions.

An account given units (town, county or city codes; users.set_units) sees,
registers and changes only the people and sessions of the towns under them. An
account without units, a station, a laptop's token and the command line are not
limited here (a laptop's token is held to its town by the sync policy). The
server names the account at the start of every request (server/auth.py);
records/people.py and records/sessions.py ask here before they read or write, so
every page and endpoint, present or future, gets the same answer. Reports ask here too
(reports/units.py): an account's reports are of its own units, its first one by default.
"""

from __future__ import annotations

import json
from contextvars import ContextVar

from fieldsync.errors import Forbidden
from fieldsync.i18n import _
from fieldsync.records import places
from fieldsync.store import Store

# None: every town. Set per request; a waitress thread's next request sets it again.
_towns: ContextVar[frozenset[str] | None] = ContextVar("fieldsync_scope_towns", default=None)
_units: ContextVar[tuple[str, ...]] = ContextVar("fieldsync_scope_units", default=())


def set_units(store: Store, units: list[str] | None) -> None:
    _towns.set(frozenset(places.towns_under(store, units)) if units else None)
    _units.set(tuple(units or ()))


def clear() -> None:
    """Back to "every town" when a request ends, so nothing run after it in the same thread (a
    test's in-process client, a scheduler tick) inherits the last account's limits."""
    _towns.set(None)
    _units.set(())


def units() -> tuple[str, ...]:
    """The account's units as given, first one first (empty: not limited)."""
    return _units.get() if _towns.get() is not None else ()


def check_unit(code: str, towns) -> None:
    """Refuse a report of a unit (`code`, with every town ever under it) not inside the account's units."""
    allowed = _towns.get()
    if allowed is not None and code not in _units.get() and not (towns and set(towns) <= allowed):
        raise Forbidden(_("That unit is outside the units of your account."), code="outside_units",
                        fields={"unit": [_("Outside the units of your account.")]})


def check(town: str | None) -> None:
    """Refuse a record of a town outside the account's units."""
    towns = _towns.get()
    if towns is not None and town not in towns:
        raise Forbidden(code="outside_units", fields={"town": [_("Outside the units of your account.")]})


def clause(column: str = "town") -> tuple[str | None, list]:
    """A WHERE condition keeping only rows of the account's towns (None: no limit)."""
    towns = _towns.get()
    if towns is None:
        return None, []
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(sorted(towns))]
