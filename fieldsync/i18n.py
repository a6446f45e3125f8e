"""Messages in the reader's language, inside a web request and outside one (the CLI, tests, threads).

Inside a request Flask-Babel's choice holds (server/i18n.py: ?lang=, the saved choice,
the browser, else Chinese). Outside one, the language set by `choose()` (the CLI's
--lang, else the system's locale) reads the same catalogues; until something
chooses, the English msgids, so logs and library callers read plain English.
Domain code raises with `_()` from here, so a message is in the right language
wherever it was raised; the store's writer thread borrows the language of the
request that queued the write (`speaking`). marshmallow's own English messages
are translated when they become our error (`validation_messages`). Decision 0116.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import has_request_context

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("zh", "en")
_catalogues: dict[str, NullTranslations] = {"en": NullTranslations()}
_outside_language = "en"
_thread = threading.local()   # .language: lent by the thread that queued the work (see speaking)


def _catalogue(language: str) -> NullTranslations:
    if language not in _catalogues:
        _catalogues[language] = Translations.load(str(TRANSLATIONS), ["zh_CN"])
    return _catalogues[language]


def choose(language: str) -> None:
    """The language outside a request, for this process: 'zh' or 'en'."""
    global _outside_language
    _catalogue(language)
    _outside_language = language


def speaking(language: str, work):
    """work, wrapped to run on another thread (the store's writer) in the caller's language, so a
    message raised inside a transaction reads as one raised in the request."""
    def run(*args):
        lent = getattr(_thread, "language", None)
        _thread.language = language
        try:
            return work(*args)
        finally:
            _thread.language = lent
    return run


def language() -> str:
    """The reader's language now: the request's inside one, else the one chosen for the process."""
    if has_request_context():
        from flask_babel import get_locale

        return "en" if str(get_locale()).startswith("en") else "zh"
    return getattr(_thread, "language", None) or _outside_language


def system_language(environ=None) -> str:
    """'zh' on a Chinese system, else 'en': the first of LC_ALL, LC_MESSAGES, LANG that is set
    (as gettext reads them); on Windows, where those are rarely set, the user's UI language."""
    environ = os.environ if environ is None else environ
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(key):
            return "zh" if environ[key].lower().startswith("zh") else "en"
    if sys.platform == "win32":
        try:
            import ctypes

            primary = ctypes.windll.kernel32.GetUserDefaultUILanguage() & 0x3FF
            return "zh" if primary == 0x04 else "en"   # LANG_CHINESE, any region
        except (AttributeError, OSError):
            pass
    return "en"


def _translations() -> NullTranslations:
    if has_request_context():
        from flask_babel import get_translations

        return get_translations()
    return _catalogue(language())


def gettext(msgid: str, **variables) -> str:
    """Flask-Babel's gettext, also outside a request: `%(name)s` placeholders filled from variables."""
    text = _translations().ugettext(msgid)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


_ = gettext


def N_(msgid: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return msgid


_TEMPLATES: list[tuple[re.Pattern, str]] = []


def template(msgid: str) -> str:
    """Register a message that marshmallow fills in with str.format ({min}, {max}, ...) before we
    see it, so `validation_message` can find the msgid again; mark it with N_ for the catalogue."""
    parts = re.split(r"\{(\w+)\}", msgid)
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    _TEMPLATES.append((re.compile(pattern, re.DOTALL), msgid))
    _TEMPLATES.sort(key=lambda entry: -len(entry[1]))   # the longest first: it is the most specific
    return msgid


# marshmallow's own messages, marked for the catalogue; the English stays marshmallow's words.
MARSHMALLOW_MESSAGES = (
    N_("Missing data for required field."), N_("Field may not be null."), N_("Unknown field."),
    N_("Invalid input type."), N_("Invalid value."), N_("Invalid input."), N_("Invalid type."),
    N_("Not a valid integer."), N_("Not a valid number."), N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."), N_("Not a valid string."),
    N_("Not a valid utf-8 string."), N_("Not a valid boolean."), N_("Not a valid datetime."),
    N_("Not a valid date."), N_("Not a valid list."), N_("Not a valid mapping type."),
    N_("String does not match expected pattern."),
    template(N_("Must be greater than or equal to {min} and less than or equal to {max}.")),
    template(N_("Must be greater than or equal to {min}.")),
    template(N_("Must be less than or equal to {max}.")),
    template(N_("Shorter than minimum length {min}.")),
    template(N_("Longer than maximum length {max}.")),
    template(N_("Length must be between {min} and {max}.")),
    template(N_("Must be one of: {choices}.")),
)


def validation_message(message) -> str:
    """One marshmallow message in the reader's language: a filled-in template by its pattern, any
    other (marked with N_ where the schema is defined, or translated when raised) by msgid."""
    text = str(message)
    for pattern, msgid in _TEMPLATES:
        found = pattern.fullmatch(text)
        if found:
            return gettext(msgid).format(**found.groupdict())
    return gettext(text)


def validation_messages(messages):
    """marshmallow's nested {field: [message]} (lists, dicts, per-index) with every message translated."""
    if isinstance(messages, dict):
        return {key: validation_messages(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [validation_messages(value) for value in messages]
    return validation_message(messages)
