"""One catalogue of the errors fieldsync reports: code → HTTP status → message (English here,
Chinese in translations/zh), and the exception classes that raise them.

The API renders every one as {"error": {"code", "message", "fields"}}; the CLI
prints the message on one line. Domain code raises these, by code, and nothing
else for conditions a user can cause; a raise may give a more precise message
(through `fieldsync.i18n._`), else the catalogue's is used. The status always
comes from the catalogue, so one code never answers with two statuses
(tests/test_error_catalogue.py checks every raise site and the OpenAPI document;
decision 0115).
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldsync.i18n import N_, gettext, validation_messages


@dataclass(frozen=True)
class Code:
    status: int
    message: str   # the msgid: English as written, Chinese from the catalogue


CATALOGUE: dict[str, Code] = {
    # 400: the request itself is malformed
    "bad_request": Code(400, N_("The request is not valid.")),
    "bad_json": Code(400, N_("The body is not valid JSON.")),
    "bad_gzip": Code(400, N_("The gzip body does not decompress.")),
    "bad_encoding": Code(400, N_("The text is in neither UTF-8 nor an encoding we read.")),
    "bad_header": Code(400, N_("A request header is not valid.")),
    "bad_csv": Code(400, N_("The CSV file is malformed.")),
    "bad_definition": Code(400, N_("The form definition is not a JSON object.")),
    "definition_too_large": Code(400, N_("The form definition file is too large.")),
    "unsupported_file": Code(400, N_("This kind of file cannot be read or written.")),
    "no_folder": Code(400, N_("The folder does not exist.")),
    "bad_setting": Code(400, N_("A setting is not valid.")),
    "bad_bundle": Code(400, N_("This is not a fieldsync bundle.")),
    "bundle_version": Code(400, N_("This bundle was written by a fieldsync version this hub does not read.")),
    "bad_block": Code(400, N_("A columnar block of the batch is malformed.")),
    "bad_range": Code(400, N_("The batch's sequence range is not valid.")),
    "bad_change": Code(400, N_("A change in the batch is malformed.")),
    "batch_not_contiguous": Code(400, N_("The batch must hold each sequence number of its range once.")),
    # 401: who is calling is not known
    "unauthorized": Code(401, N_("Sign in first.")),
    "login_required": Code(401, N_("Sign in first.")),
    "bad_token": Code(401, N_("The access token is not valid (unknown, expired or revoked).")),
    "node_token_required": Code(401, N_("Sync calls need the laptop's token from enrollment.")),
    "node_revoked": Code(401, N_("The city association revoked this laptop; it must be enrolled again.")),
    "station_expired": Code(401, N_("This station's sign-in has expired; scan the join code again.")),
    # 403: known, but not allowed
    "forbidden": Code(403, N_("This is not allowed.")),
    "role_forbidden": Code(403, N_("Your account may not do this.")),
    "csrf_failed": Code(403, N_("The form expired or came from another site; reload the page and try again.")),
    "outside_units": Code(403, N_("That town is outside the units of your account.")),
    "station_session_forbidden": Code(403, N_("This station is set up for another session only.")),
    "hub_only": Code(403, N_("This is done at the hub.")),
    "revoked_node_bundle": Code(403, N_("The laptop of this bundle was revoked; an admin must confirm the import.")),
    "no_signing_key": Code(403, N_("That laptop never registered a signing key with this hub.")),
    "bad_signature": Code(403, N_("The bundle's signature does not match: it was altered or comes from elsewhere.")),
    "bad_enrollment_proof": Code(403, N_("The enrollment request's signature does not match its key.")),
    "bad_enrollment_code": Code(403, N_("This enrollment code is not valid (mistyped, already used or revoked).")),
    "enrollment_code_expired": Code(403, N_("This enrollment code has expired; ask the hub for a new one.")),
    "not_your_town": Code(403, N_("A laptop may create records in its own town only.")),
    "not_your_record": Code(403, N_("A laptop may change only what its own town holds.")),
    "not_your_session": Code(403, N_("A laptop may record only at its own town's sessions.")),
    "move_request": Code(403, N_("A move to another town waits for an admin of the hub.")),
    "unit_outside_area": Code(403, N_("That unit is outside this hub's area.")),
    "not_below_this_hub": Code(403, N_("A hub enrolls only under the hub of the unit directly above its own.")),
    "association_only": Code(403, N_("Results come from the association: an account of the city's unit.")),
    "period_locked": Code(403, N_("The association accepted this year's filing: its activities are locked until it "
                                  "reopens the year.")),
    # 404: no such thing
    "not_found": Code(404, N_("Nothing here.")),
    "session_not_found": Code(404, N_("No such session.")),
    "person_not_found": Code(404, N_("No such person.")),
    "place_not_found": Code(404, N_("No such place.")),
    "unit_not_found": Code(404, N_("No such unit in the gazetteer.")),
    "theme_day_not_found": Code(404, N_("No such theme day.")),
    "filing_not_found": Code(404, N_("No such filing has reached this hub.")),
    "double_not_found": Code(404, N_("This person was not scanned in twice at this session.")),
    "form_not_found": Code(404, N_("No such form.")),
    "no_form": Code(404, N_("This session has no form attached.")),
    "submission_not_found": Code(404, N_("No such answers.")),
    "no_such_format": Code(404, N_("No export in that format.")),
    "report_not_found": Code(404, N_("No such report.")),
    "station_not_found": Code(404, N_("No such station, or it was revoked.")),
    "node_not_found": Code(404, N_("No such laptop.")),
    "unknown_node": Code(404, N_("This bundle comes from a laptop this hub never enrolled.")),
    "conflict_not_found": Code(404, N_("No such conflict.")),
    "quarantine_not_found": Code(404, N_("No such quarantined change.")),
    "nomination_not_found": Code(404, N_("No such nomination.")),
    "pairing_not_found": Code(404, N_("No such pairing.")),
    "organisation_not_found": Code(404, N_("No such sports organisation.")),
    "preview_not_found": Code(404, N_("That preview is gone; upload the file again.")),
    "personal_link_invalid": Code(404, N_("This personal link does not open any page: it was replaced by a newer "
                                          "one, revoked, or mistyped. Ask your town's staff for your current link.")),
    "service_certificate_not_found": Code(404, N_("No 志愿服务记录证明 has this code. Check it character by "
                                                  "character against the certificate.")),
    "request_not_found": Code(404, N_("No such correction request.")),
    "method_not_allowed": Code(405, N_("This method is not allowed here.")),
    "not_acceptable": Code(406, N_("No answer in a form the client accepts.")),
    # 409: it clashes with what is stored
    "conflict": Code(409, N_("This clashes with what is stored.")),
    "user_exists": Code(409, N_("That user already exists.")),
    "own_account": Code(409, N_("You cannot disable your own account.")),
    "last_admin": Code(409, N_("This is the last active admin; make another admin first.")),
    "duplicate_person": Code(409, N_("This ID number is already registered.")),
    "certificate_taken": Code(409, N_("This certificate number belongs to another person.")),
    "person_cancelled": Code(409, N_("This registration is cancelled.")),
    "already_cancelled": Code(409, N_("This is already cancelled.")),
    "not_a_promotion": Code(409, N_("A promotion raises the level.")),
    "no_level": Code(409, N_("This person holds no level yet.")),
    "not_an_instructor": Code(409, N_("This person is not an active instructor.")),
    "session_cancelled": Code(409, N_("This session was cancelled; scans are not taken.")),
    "submission_id_taken": Code(409, N_("This submission id is already taken by another form's answers.")),
    "nothing_to_publish": Code(409, N_("This version is already published.")),
    "station_exists": Code(409, N_("A station with this name already exists.")),
    "already_merged": Code(409, N_("This person was already merged.")),
    "kept_cancelled": Code(409, N_("The registration to keep is cancelled.")),
    "pairing_exists": Code(409, N_("This pairing already exists.")),
    "organisation_exists": Code(409, N_("An organisation of this name is already kept.")),
    "preview_outdated": Code(409, N_("The file or the roster has changed since the preview; preview it again.")),
    "import_has_errors": Code(409, N_("Some rows have problems; fix them and preview again.")),
    "already_resolved": Code(409, N_("This was already dealt with.")),
    "not_a_move_request": Code(409, N_("Only a move request is applied this way.")),
    "record_gone": Code(409, N_("The record is no longer at the hub.")),
    "already_revoked": Code(409, N_("This laptop was already revoked.")),
    "no_key_ids": Code(409, N_("The hub has no badge key ids left.")),
    "not_enrolled": Code(409, N_("This laptop is not enrolled with a hub yet.")),
    "origin_taken": Code(409, N_("This laptop's database belongs to another enrolled laptop.")),
    "gap": Code(409, N_("Changes are missing before this batch; send again from where the hub says.")),
    "divergent": Code(409, N_("This batch differs from the one the hub already has with the same numbers.")),
    "refs_unresolved": Code(409, N_("The hub cannot tell which people the batch's short references name; the "
                                    "laptop sends them with whole ids.")),
    "theme_day_in_use": Code(409, N_("Activities are tagged with this theme day.")),
    "unit_taken": Code(409, N_("Another hub already serves this unit.")),
    "target_set_by_parent": Code(409, N_("The parent hub set this target; only it can change it.")),
    "wrong_unit": Code(409, N_("This enrollment code was made for the hub of another unit.")),
    "code_for_a_hub": Code(409, N_("This code is for a county or city hub (made with nodes add --unit); a town "
                                   "laptop needs a code made with nodes add --town.")),
    "code_for_a_laptop": Code(409, N_("This code is for a town laptop (made with nodes add --town); a hub enrolls "
                                      "with a code made for its unit with nodes add --unit.")),
    "parent_not_above": Code(409, N_("The hub at that address does not serve the unit directly above this hub's; "
                                     "not enrolled.")),
    "session_not_ended": Code(409, N_("The activity has not ended: its hours are reviewed after it ends.")),
    "already_nominated": Code(409, N_("This person is already nominated for that year.")),
    "not_accepted": Code(409, N_("This filing is not accepted; there is nothing to reopen.")),
    "service_certificate_altered": Code(409, N_("This certificate's record was altered after it was issued; "
                                                "it cannot be trusted. Ask the association.")),
    "no_reviewed_hours": Code(409, N_("No reviewed volunteer hours in that year; there is nothing to certify.")),
    "too_many_requests_waiting": Code(409, N_("Your earlier requests still wait for your town's staff; ask again "
                                              "once they have decided.")),
    "request_decided": Code(409, N_("This request was already decided.")),
    # 410: the cursor no longer leads anywhere
    "gone": Code(410, N_("This is no longer here.")),
    "cursor_ahead": Code(410, N_("This cursor is past the end of the hub's log; take a fresh snapshot.")),
    "cursor_invalid": Code(410, N_("The pull cursor is not one this hub gave; take a fresh snapshot.")),
    "cursor_stale": Code(410, N_("The hub was restored from a backup since this cursor; take a fresh snapshot.")),
    "cursor_expired": Code(410, N_("The changes after this cursor have expired on the hub; take a fresh snapshot.")),
    # 413, 415: too much, or the wrong kind of body
    "payload_too_large": Code(413, N_("The request body is too large.")),
    "body_too_large": Code(413, N_("The body decompresses to more than this server accepts.")),
    "batch_too_large": Code(413, N_("The batch holds too many changes; send smaller ones.")),
    "bundle_too_large": Code(413, N_("The bundle holds more than this hub accepts at once.")),
    "unsupported_media_type": Code(415, N_("This kind of body is not accepted.")),
    "not_json": Code(415, N_("Send JSON with Content-Type: application/json.")),
    "unsupported_encoding": Code(415, N_("This Content-Encoding is not supported; use gzip or none.")),
    # 422: well-formed, but a value is not acceptable
    "validation_failed": Code(422, N_("Some fields are not valid.")),
    "no_file": Code(422, N_("Choose a file first.")),
    "bad_answers": Code(422, N_("The answers are not a JSON object keyed by field name.")),
    "no_header": Code(422, N_("No header row in the first rows of the file.")),
    "duplicate_column": Code(422, N_("Two columns mean the same thing; keep one.")),
    "no_town": Code(422, N_("The file has no town column and no default town was given.")),
    "empty_roster": Code(422, N_("The file has no people below its header row.")),
    "too_many_rows": Code(422, N_("The file has too many rows for one import.")),
    "no_places": Code(422, N_("This laptop has no place list yet.")),
    "whole_number_only": Code(422, N_("Search a phone by its whole 11-digit number.")),
    "bad_certificate_rule": Code(422, N_("The certificate number rule in config.toml cannot be used.")),
    "no_certificates": Code(422, N_("No one to print a certificate for.")),
    "too_many": Code(422, N_("Too many at a time.")),
    "too_many_badges": Code(422, N_("Too many badges at a time; print one village or town at a time.")),
    "no_people": Code(422, N_("Nobody to print a badge for.")),
    "not_an_s12_file": Code(422, N_("The file has no 身份证号 column; give an S12 file a laptop exported.")),
    "not_a_child_unit": Code(422, N_("That unit is not directly under this hub's unit.")),
    "unknown_unit": Code(422, N_("That unit is not in this hub's gazetteer; import its places first.")),
    "no_unit": Code(422, N_("This hub has no unit: make it with fieldsync init --hub --unit CODE before enrolling it "
                            "with a parent hub.")),
    # 426: versions that do not speak to each other
    "upgrade_required": Code(426, N_("Another fieldsync version is needed.")),
    "protocol_unsupported": Code(426, N_("The hub and this laptop speak different protocol versions.")),
    "upgrade_needed": Code(426, N_("The hub needs another fieldsync version on this laptop.")),
    "too_many_attempts": Code(429, N_("Too many wrong passwords; wait, then try again.")),
    "too_many_requests": Code(429, N_("Too many requests; wait, then try again.")),
    # 5xx: our side, or the hub's
    "internal_error": Code(500, N_("Something went wrong on our side; it has been logged.")),
    "hub_error": Code(502, N_("The hub answered with an error it did not explain.")),
    "hub_unreachable": Code(503, N_("The hub could not be reached.")),
    "hub_link_failing": Code(503, N_("The link to the hub kept failing; what got through is kept, the rest goes "
                                     "at the next sync.")),
    "database_unavailable": Code(503, N_("The hub's database cannot be reached just now; try again in a minute.")),
    "no_cjk_font": Code(503, N_("No Chinese font found for badge sheets.")),
}


class FieldsyncError(Exception):
    code = "bad_request"

    def __init__(self, message: str | None = None, *, code: str | None = None, fields: dict | None = None,
                 extra: dict | None = None):
        if code:
            self.code = code
        self.message = message or gettext(CATALOGUE[self.code].message)
        super().__init__(self.message)
        self.fields = fields or {}
        # Machine-readable details a client acts on (expected_from, min_version, ...).
        self.extra = extra or {}

    @property
    def status(self) -> int:
        return CATALOGUE[self.code].status

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "fields": self.fields}
        body.update(self.extra)
        return {"error": body}


# The classes name the status family at the raise site; the code decides the status, and the
# catalogue test checks that the two agree.
class BadRequest(FieldsyncError):
    code = "bad_request"


class ValidationFailed(FieldsyncError):
    code = "validation_failed"


class Unauthorized(FieldsyncError):
    code = "unauthorized"


class Forbidden(FieldsyncError):
    code = "forbidden"


class NotFound(FieldsyncError):
    code = "not_found"


class Conflict(FieldsyncError):
    code = "conflict"


class Gone(FieldsyncError):
    code = "gone"


class PayloadTooLarge(FieldsyncError):
    code = "payload_too_large"


class UnsupportedMediaType(FieldsyncError):
    code = "unsupported_media_type"


class UpgradeRequired(FieldsyncError):
    code = "upgrade_required"


class Refused(Forbidden):
    """A change a laptop may not make (sync/downstream/policy.py); the merge quarantines it under its code."""

    code = "not_your_record"


class NotEnrolled(Conflict):
    code = "not_enrolled"


class NeedsUpgrade(FieldsyncError):
    code = "upgrade_needed"


class HubUnreachable(FieldsyncError):
    code = "hub_unreachable"


class HubError(FieldsyncError):
    """The hub answered with an error: its code, message and details, relayed with its status
    (the hub may be a newer version, with codes this catalogue does not know)."""

    code = "hub_error"

    def __init__(self, message: str, *, status: int, **kwargs):
        super().__init__(message, **kwargs)
        self.hub_status = status

    @property
    def status(self) -> int:
        return self.hub_status


def from_marshmallow(err, message: str | None = None) -> ValidationFailed:
    """Turn a marshmallow ValidationError into our error, naming every bad field in the reader's language."""
    messages = validation_messages(err.messages if isinstance(err.messages, dict) else {"_schema": err.messages})
    message = message or gettext(CATALOGUE["validation_failed"].message)
    first = _first_message(messages)
    if first:
        message = f"{message} {first}"
    return ValidationFailed(message, fields=messages)


def _first_message(messages) -> str:
    for key, value in messages.items() if isinstance(messages, dict) else []:
        if isinstance(value, dict):
            inner = _first_message(value)
            if inner:
                return inner if key == "_schema" else f"{key}.{inner}"
        elif isinstance(value, list) and value:
            text = value[0] if isinstance(value[0], str) else str(value[0])
            return text if key == "_schema" else f"{key}: {text}"
    return ""
