"""The built-in walk-in registration form does what the kiosk's walk-in dialog does: it registers the
person (注册, people.register, as POST /api/v1/people) and checks them in to the session
(checkins.check_in with method walk-in, as the dialog's POST /api/v1/checkins). The answers are kept
as the form's submission for the new person, so a retry with the same id registers nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.forms import builder, catalogue, submissions
from fieldsync.i18n import _
from fieldsync.records import checkins, people, sessions
from fieldsync.records.schemas import PersonSchema, load
from fieldsync.store import Store

FORM_ID = "walk_in_registration"
# The form's fields that are the person's own; their names are the roster's.
PERSON_FIELDS = ("name", "phone", "village", "gender", "birth_year")


@dataclass
class WalkIn:
    person: dict
    submission: submissions.Submitted
    scan: checkins.ScanResult | None = None   # None when this is a retry of an earlier walk-in


def register_and_check_in(store: Store, session_id: str | None, answers, client_id: str | None = None, *,
                          version: int | None = None, actor: str | None = None,
                          station: str = "kiosk") -> WalkIn:
    """Register the person the answers describe in the session's town, check them in, keep the answers."""
    if client_id:
        earlier = submissions.find(store.db, client_id)
        if earlier and earlier["form_id"] != FORM_ID:
            raise Conflict(code="submission_id_taken", fields={"id": [_("Already used.")]})
        if earlier:
            return WalkIn(people.get(store, earlier["person_id"]), submissions.Submitted(earlier, replay=True))
    if not session_id:
        raise ValidationFailed(_("A walk-in registration checks the person in: name the session."),
                               fields={"session": [_("Missing data for required field.")]})
    session = sessions.get(store, session_id)
    if session["status"] == "cancelled":
        # Refused before anyone is registered: the check-in would be refused after.
        raise Conflict(code="session_cancelled")
    form = catalogue.get(store, FORM_ID, version)
    data = builder.validate_answers(form["definition"], answers)
    person = people.register(store, load(PersonSchema(), {
        "town": session["town"], **{name: data[name] for name in PERSON_FIELDS if data.get(name) is not None}}),
        actor=actor)
    scan = checkins.check_in(store, session_id=session_id, person_id=person["id"], method="walk-in",
                             station=station)
    done = submissions.submit(store, FORM_ID, session_id, person["id"], answers, client_id,
                              version=form["version"], actor=actor)
    return WalkIn(person, done, scan)
