"""Chinese by default, English on request: ?lang=, then the saved choice, then the browser.

Catalogues live in fieldsync/translations (built with `make i18n`, .po and .mo
both committed so an installed wheel needs no pybabel). The Chinese one sits in
zh/, not zh_CN/: Babel resolves zh_CN to zh_Hans_CN, which gettext finds as zh. Dates and numbers go
through Babel with the chosen locale: `{{ s.starts_at|when }}`, `{{ n|number }}`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from babel.dates import format_skeleton
from flask import Flask, request, session
from flask_babel import Babel, format_number, get_locale

from fieldsync.reports.table import CHINA

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
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:  # a UTC instant ('...Z'): China Standard Time, as the sheets
        moment = moment.astimezone(CHINA).replace(tzinfo=None)  # print it, whatever the server's zone
    locale = str(get_locale())
    return f"{format_skeleton('yMMMEd', moment, locale=locale)} {format_skeleton('Hm', moment, locale=locale)}"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["number"] = format_number
