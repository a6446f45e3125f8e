"""Every table of the database as a Table (written by sheets/csvfile.py or sheets/xlsx.py).

Phones of people are masked, as in every export; the sealed ID numbers and merge bookkeeping never
leave.
"""

from __future__ import annotations

from sqlite_utils import Database

from fieldsync.errors import Forbidden
from fieldsync.i18n import _
from fieldsync.records import scope
from fieldsync.records.checkins import CHECKIN_COLUMNS
from fieldsync.records.people import PUBLIC_COLUMNS
from fieldsync.records.validators import mask_phone
from fieldsync.sheets.table import Table

BATCH_ROWS = 2000
SESSION_COLUMNS = ("id", "kind", "title", "organizer", "undertaker", "summary", "mode", "starts_at", "ends_at", "town",
                   "village", "venue", "contact_name", "contact_phone", "notes", "form_id", "hours",
                   "venue_type", "groups_served", "safety_plan", "theme_day", "trainer_id",
                   "status", "js365_filed_at", "js365_filed_by", "origin", "hlc", "updated_at")
ATTENDANCE_COLUMNS = ("session_id", "person_id", "first_in", "last_out", "ins", "outs", "year", "kind",
                      "counted", "minutes")
# name → (columns, table): what `fieldsync report table --table NAME` exports.
DATABASE_TABLES = {
    "places": (("code", "name", "kind", "parent", "urban_rural", "valid_from", "ended_on", "replaced_by"), "places"),
    "place_populations": (("code", "year", "population"), "place_populations"),
    "people": (PUBLIC_COLUMNS, "people"),
    "sessions": (SESSION_COLUMNS, "sessions"),
    "checkins": (CHECKIN_COLUMNS, "checkins"),
    "attendance": (ATTENDANCE_COLUMNS, "rollup_attendance"),
    "organisations": (("id", "name", "kind", "contact_name", "contact_phone", "updated_at", "updated_by"),
                      "organisations"),
    "pairings": (("id", "organisation_id", "village", "town", "since", "notes", "created_at", "actor"), "pairings"),
    "fitness_teams": (("id", "pairing_id", "town", "name", "formed_on", "members", "created_at", "actor"),
                      "fitness_teams"),
    "session_pairings": (("session_id", "pairing_id"), "session_pairings"),
    "person_merges": (("merged_id", "kept_id", "merged_at", "actor"), "person_merges"),
    "theme_days": (("id", "year", "name", "starts_on", "ends_on", "updated_at", "updated_by"), "theme_days"),
}
# The town each table's row belongs to, for an account limited to some towns (records/scope.py):
# it gets only its towns' rows. None: shared reference data, the same for every town (gazetteer,
# populations, the association's theme days and organisations). A table missing here is refused to such an account.
_SESSION_TOWN = "(SELECT town FROM sessions WHERE sessions.id = {}.session_id)"
TOWN_OF = {
    "places": None, "place_populations": None, "theme_days": None, "organisations": None,
    "people": ("town",), "sessions": ("town",),
    "checkins": (_SESSION_TOWN.format("checkins"),),
    "attendance": (_SESSION_TOWN.format("rollup_attendance"),),
    "session_pairings": (_SESSION_TOWN.format("session_pairings"),),
    "pairings": ("(SELECT parent FROM places WHERE places.code = pairings.village)",),
    "fitness_teams": ("town",),
    # A merge joins two registrations: both must be the account's.
    "person_merges": ("(SELECT town FROM people WHERE people.id = person_merges.merged_id)",
                      "(SELECT town FROM people WHERE people.id = person_merges.kept_id)"),
}


def database_table(db: Database, table: str) -> Table:
    columns, source = DATABASE_TABLES[table]
    where, params = _in_scope(table)
    rows = db.execute(f"SELECT {', '.join(columns)} FROM {source}{where}", params)
    if table == "people":
        phone = columns.index("phone")
        rows = (row[:phone] + (mask_phone(row[phone]),) + row[phone + 1:] for row in rows)
    return Table(title=table, headers=columns, rows=rows, sheet_name=table)


def _in_scope(table: str) -> tuple[str, list]:
    """' WHERE …' keeping the rows of the account's towns, or '' when it is not limited."""
    if scope.clause()[0] is None or TOWN_OF.get(table, ()) is None:
        return "", []
    if table not in TOWN_OF:
        raise Forbidden(_("The %(table)s table cannot be limited to the units of your account.", table=table),
                        code="outside_units", fields={"table": [_("Outside the units of your account.")]})
    clauses = [scope.clause(town) for town in TOWN_OF[table]]
    return " WHERE " + " AND ".join(sql for sql, _ in clauses), [p for _, params in clauses for p in params]

