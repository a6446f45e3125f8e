"""Chinese by default, English on request: ?lang=, then the saved choice, then the browser.

Codes (levels, kinds, roles...) show as words through fieldsync/labels.py: `{{ p.level|term('level') }}`,
`terms('level')` for a <select>. Durations and hours go through `duration`, `clock_skew` and `hours`,
never as raw floats ("-0.0 s", "2334.28 h").

Catalogues live in fieldsync/translations (built with `make i18n`, .po and .mo
both committed so an installed wheel needs no pybabel). The Chinese one sits in
zh/, not zh_CN/: Babel resolves zh_CN to zh_Hans_CN, which gettext finds as zh. Dates and numbers go
through Babel with the chosen locale: `{{ s.starts_at|when }}`, `{{ n|number }}`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal
from flask import Flask, request, session
from flask_babel import Babel, format_number, get_locale
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup

from fieldsync import labels
from fieldsync.store import clock

LOCALES = ("zh_CN", "en")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LOCALES:
        session["lang"] = asked
        return asked
    if session.get("lang") in LOCALES:
        return session["lang"]
    best = request.accept_languages.best_match(["zh", "zh_CN", "en"])
    if best and best.startswith("en"):
        return "en"
    return "zh_CN"


def when(value) -> str:
    """A stored wall-clock time ('2025-05-28T09:00') as the locale writes it: 2025年5月28日周三 09:00."""
    if not value:
        return ""
    moment = clock.in_china(value)   # a UTC instant ('...Z') as China's clocks show it, like the sheets
    locale = str(get_locale())
    return f"{format_skeleton('yMMMEd', moment, locale=locale)} {format_skeleton('Hm', moment, locale=locale)}"


def duration(seconds: float) -> str:
    """A span as people say it, in its largest fitting unit: 7 分钟, 3 小时, 97 天."""
    return format_timedelta(timedelta(seconds=abs(seconds)), threshold=1.5, locale=str(get_locale()))


def clock_skew(ms: int | None) -> str:
    """How far a laptop's clock is from the hub's (its clock minus ours), in words: 快 7分钟."""
    if ms is None:
        return "–"
    if abs(ms) < 1000:
        return _("on time")
    if ms > 0:
        return _("%(duration)s fast", duration=duration(ms / 1000))
    return _("%(duration)s slow", duration=duration(ms / 1000))


def hours(value) -> str:
    """Service hours as recorded, to a tenth and without a trailing .0 or a minus zero: 2,334.3 小时."""
    number = round(float(value or 0), 1) or 0.0
    return _("%(hours)s hours", hours=format_decimal(number, format="#,##0.#", locale=str(get_locale())))


@pass_context  # else Jinja folds '注册'|office_word into the template in the first page's language
def office_word(context, word: str) -> Markup:
    """The office's own Chinese term beside an English heading or button, " (注册)"; a Chinese page
    already says it, and saying it twice reads "注册人员 (注册)"."""
    if str(get_locale()) != "en":
        return Markup("")
    return Markup(" <small>(%s)</small>") % word


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["term"] = labels.term
    app.jinja_env.globals["terms"] = labels.terms
    app.jinja_env.globals["field_value"] = labels.field_value
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["clock_skew"] = clock_skew
    app.jinja_env.filters["hours"] = hours
    app.jinja_env.filters["office_word"] = office_word
