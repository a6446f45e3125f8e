"""Words for stored codes, once: levels, session kinds, roles, history actions and sources, record
kinds, fields and tables. A page shows `{{ p.level|term('level') }}`, never the code.

Each word is an English msgid with the vocabulary as its gettext context (msgctxt), so "Registered"
as a person's status and as a column title can differ in Chinese. Screens follow the page's
language; files, certificates and roster imports speak the office's Chinese in every language,
read from the same table through the zh catalogue (`chinese`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import Translations

CATALOGUES = Path(__file__).resolve().parent / "translations"


def pgettext(context: str, message: str) -> tuple[str, str]:
    """Marks a word for the catalogues (pybabel looks for pgettext); translated where it is shown."""
    return context, message


VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "level": {"none": pgettext("level", "None"), "level3": pgettext("level", "Level 3"),
              "level2": pgettext("level", "Level 2"), "level1": pgettext("level", "Level 1"),
              "national": pgettext("level", "National")},
    "kind": {"training": pgettext("kind", "Training"), "volunteer": pgettext("kind", "Volunteer service"),
             "theme": pgettext("kind", "Theme day"), "monitoring": pgettext("kind", "Fitness monitoring")},
    "mode": {"offline": pgettext("mode", "On site"), "online": pgettext("mode", "Online")},
    # A sports organisation's kind (reports/organisations.py).
    "organisation_kind": {"association": pgettext("organisation_kind", "Sports association"),
                          "club": pgettext("organisation_kind", "Sports club"),
                          "station": pgettext("organisation_kind", "Fitness station"),
                          "school": pgettext("organisation_kind", "School"),
                          "company": pgettext("organisation_kind", "Company or institution"),
                          "other": pgettext("organisation_kind", "Other")},
    "gender": {"male": pgettext("gender", "Male"), "female": pgettext("gender", "Female")},
    "status": {"active": pgettext("status", "Registered"), "cancelled": pgettext("status", "Cancelled")},
    "role": {"staff": pgettext("role", "Office staff"), "trainer": pgettext("role", "Trainer"),
             "admin": pgettext("role", "Administrator")},
    # What happened to a record, in its history.
    "action": {"register": pgettext("action", "Registered"), "modify": pgettext("action", "Changed"),
               "promote": pgettext("action", "Promoted"), "cancel": pgettext("action", "Cancelled"),
               "restore": pgettext("action", "Restored"), "reissue_badge": pgettext("action", "Badge reissued"),
               "create": pgettext("action", "Created"), "sync": pgettext("action", "Synced"),
               "pull": pgettext("action", "Received from the hub"), "verify": pgettext("action", "Verified"),
               "certificate": pgettext("action", "Certificate issued"),
               "rehash": pgettext("action", "ID number hash updated"),
               "move": pgettext("action", "Moved to another town"),
               "merge": pgettext("action", "Duplicate merged in"),
               "merged_into": pgettext("action", "Merged into another record"),
               "conflict_override": pgettext("action", "Conflict decided"),
               "js365": pgettext("action", "Filed on js365")},
    # Who did it, when it was not a person's account.
    "source": {"demo": pgettext("source", "Demo data"), "hub": pgettext("source", "City hub"),
               "enrollment": pgettext("source", "Laptop enrollment"), "node": pgettext("source", "Town laptop"),
               "cli": pgettext("source", "Command line")},
    "entity": {"people": pgettext("entity", "Person"), "sessions": pgettext("entity", "Session"),
               "checkins": pgettext("entity", "Check-in"), "submissions": pgettext("entity", "Form answers"),
               "forms": pgettext("entity", "Form"), "places": pgettext("entity", "Place"),
               "pairings": pgettext("entity", "Pairing"), "organisations": pgettext("entity", "Sports organisation"),
               "fitness_teams": pgettext("entity", "Fitness team")},
    "field": {"name": pgettext("field", "Name"), "gender": pgettext("field", "Gender"),
              "birth_year": pgettext("field", "Year of birth"), "phone": pgettext("field", "Mobile"),
              "id_number": pgettext("field", "ID number"), "id_number_masked": pgettext("field", "ID number"),
              "town": pgettext("field", "Town"), "village": pgettext("field", "Village"),
              "level": pgettext("field", "Level"), "specialty": pgettext("field", "Specialty"),
              "certificate_no": pgettext("field", "Certificate no."),
              "registered_at": pgettext("field", "Registered on"), "status": pgettext("field", "Status"),
              "verified_by": pgettext("field", "Verified by"), "kind": pgettext("field", "Kind"),
              "title": pgettext("field", "Title"), "organizer": pgettext("field", "Organizer"),
              "summary": pgettext("field", "Summary"), "mode": pgettext("field", "Mode"),
              "starts_at": pgettext("field", "Starts"), "ends_at": pgettext("field", "Ends"),
              "venue": pgettext("field", "Venue"), "contact_name": pgettext("field", "Contact person"),
              "contact_phone": pgettext("field", "Contact phone"), "notes": pgettext("field", "Notes"),
              "hours": pgettext("field", "Hours credited"), "form_id": pgettext("field", "Form"),
              "undertaker": pgettext("field", "Undertaken by"), "venue_type": pgettext("field", "Venue category"),
              "groups_served": pgettext("field", "Groups served"), "safety_plan": pgettext("field", "Safety plan"),
              "theme_day": pgettext("field", "Theme day"), "js365_filed_at": pgettext("field", "Filed on js365"),
              "js365_filed_by": pgettext("field", "Filed on js365 by"), "trainer_id": pgettext("field", "Trainer"),
              "recruited_via": pgettext("field", "Found as a leader by pairing")},
    # Where an activity took sport (the 临汾 notice's 体育"六进") and whom it served.
    "venue_type": {"office": pgettext("venue_type", "Government offices and workplaces"),
                   "campus": pgettext("venue_type", "Schools"),
                   "enterprise": pgettext("venue_type", "Factories, mines and companies"),
                   "community": pgettext("venue_type", "Communities and villages"),
                   "square": pgettext("venue_type", "Squares and parks"), "family": pgettext("venue_type", "Families")},
    "group": {"elderly": pgettext("group", "Older people"), "disabled": pgettext("group", "People with disabilities"),
              "youth": pgettext("group", "Children and young people"), "workers": pgettext("group", "Workers"),
              "farmers": pgettext("group", "Farmers"), "women": pgettext("group", "Women"),
              "intellectuals": pgettext("group", "Professionals")},
    # What a report asks for (fieldsync/reports/registry.py).
    "param": {"year": pgettext("param", "year"), "unit": pgettext("param", "unit"),
              "kind": pgettext("param", "kind of session"), "session": pgettext("param", "session"),
              "table": pgettext("param", "table")},
    # The database tables the reports page exports as CSV.
    "table": {"places": pgettext("table", "Places"), "place_populations": pgettext("table", "Populations"),
              "people": pgettext("table", "People"), "sessions": pgettext("table", "Sessions"),
              "checkins": pgettext("table", "Check-ins"), "attendance": pgettext("table", "Attendance"),
              "pairings": pgettext("table", "Pairings"), "session_pairings": pgettext("table", "Sessions of pairings"),
              "organisations": pgettext("table", "Sports organisations"),
              "fitness_teams": pgettext("table", "Fitness teams"),
              "person_merges": pgettext("table", "Merged duplicates"), "theme_days": pgettext("table", "Theme days")},
}


def term(code, vocabulary: str) -> str:
    """The word for `code` in the page's language; a code this table does not know shows as it is.
    A source such as "node:张村镇电脑" keeps its name after the word."""
    if code is None or code == "":
        return ""
    from flask_babel import pgettext as translate

    words = VOCABULARIES[vocabulary]
    if code in words:
        return translate(*words[code])
    kind, _, name = str(code).partition(":")
    if vocabulary == "source" and name and kind in words:
        return f"{translate(*words[kind])} {name}"
    return str(code)


def terms(vocabulary: str) -> dict[str, str]:
    """code → word in the page's language, in the table's order: for a <select>."""
    return {code: term(code, vocabulary) for code in VOCABULARIES[vocabulary]}


# Fields whose stored value is itself a code of a vocabulary.
CODED_FIELDS = {"level": "level", "gender": "gender", "status": "status", "kind": "kind", "mode": "mode",
                "venue_type": "venue_type"}


def field_value(field: str, value, place_names: dict[str, str]) -> str:
    """A stored field value as a page shows it: the word for a code, the name for a place code."""
    if value is None:
        return ""
    if field in CODED_FIELDS:
        return term(value, CODED_FIELDS[field])
    if field in ("town", "village"):
        return place_names.get(value, str(value))
    return str(value)


HIDDEN_IN_HISTORY = {"id_number_hash", "badge_generation", "certificate_issued_at", "verified_at"}


def readable_history(history: list[dict], place_names: dict[str, str]) -> list[dict]:
    """A record's history as the office reads it: 注册/修改/注销, who or what did it, words for its
    fields and codes; bookkeeping fields (hashes, badge generations) left out."""
    return [{**entry, "label": term(entry["action"], "action"), "actor": term(entry["actor"], "source"),
             "changes": [(term(key, "field"), field_value(key, old, place_names), field_value(key, new, place_names))
                         for key, (old, new) in entry["changes"].items() if key not in HIDDEN_IN_HISTORY]}
            for entry in history]


@cache
def _zh() -> Translations:
    # Without the catalogue, imports would quietly stop accepting 二级: refuse to start instead.
    if not (CATALOGUES / "zh" / "LC_MESSAGES" / "messages.mo").is_file():
        raise RuntimeError("fieldsync/translations/zh is missing: reinstall fieldsync")
    return Translations.load(str(CATALOGUES), ["zh"])


def chinese(vocabulary: str) -> dict[str, str]:
    """code → the office's Chinese word, whatever the page's language (files, certificates, imports)."""
    return {code: _zh().upgettext(*word) for code, word in VOCABULARIES[vocabulary].items()}
