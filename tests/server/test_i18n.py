"""The zh and en catalogues: every string on screen has its Chinese, and the pages use it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "fieldsync" / "translations"


def used_msgids() -> set[tuple[str | None, str]]:
    """Every _() string (with its pgettext context) in the Python code and the templates, extracted
    as `make i18n` does."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options_map):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def catalogue(lang: str):
    with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=lang)


def test_every_string_used_has_a_chinese_translation():
    zh = catalogue("zh")
    untranslated = sorted(f"{msgid} (context {context})" if context else msgid
                          for context, msgid in used_msgids()
                          if not ((m := zh.get(msgid, context)) and m.string and not m.fuzzy))
    assert not untranslated, ("Run `make i18n`, then translate these in "
                              "fieldsync/translations/zh/LC_MESSAGES/messages.po:\n" + "\n".join(untranslated))


def test_translations_keep_their_placeholders():
    problems = [(message.id, errors) for message, errors in catalogue("zh").check()]
    assert not problems


def _key(message) -> tuple:
    """A message as the .mo knows it: its context and its msgid (singular and plural)."""
    return message.context, _text(message.id)


def _text(value) -> tuple:
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def test_compiled_catalogues_match_their_sources():
    for lang in ("zh", "en"):
        with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.mo", "rb") as mo:
            compiled = {_key(m): _text(m.string) for m in read_mo(mo) if m.id and m.string != m.id}
        # (pybabel compiles an untranslated plural as its English forms: the same as none)
        source = {_key(m): _text(m.string) for m in catalogue(lang)
                  if m.id and any(_text(m.string)) and m.string != m.id and not m.fuzzy}
        assert compiled == source, f"{lang}: the .mo is stale; run `make i18n`"


def test_pages_speak_chinese_by_default_english_on_request(app):
    client = app.test_client()
    assert "登录" in client.get("/login").text
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert "Sign in" in client.get("/login?lang=en").text
    assert "Sign in" in client.get("/login").text  # the choice sticks for this browser
    assert "登录" in client.get("/login?lang=zh_CN", headers={"Accept-Language": "en"}).text


def test_dates_are_written_the_way_each_language_writes_them(app):
    from fieldsync.server.i18n import when

    moment = datetime(2025, 5, 28, 9, 0)
    with app.test_request_context("/?lang=zh_CN"):
        assert when(moment) == "2025年5月28日周三 09:00"
    with app.test_request_context("/?lang=en"):
        assert when("2025-05-28T09:00") == "Wed, May 28, 2025 09:00"


def test_a_stored_utc_instant_is_shown_in_china_time_on_a_server_in_any_zone(app, monkeypatch):
    import time

    from fieldsync.server.i18n import when

    monkeypatch.setenv("TZ", "UTC")  # a hub in a data centre, or a laptop set to the wrong zone
    time.tzset()
    try:
        with app.test_request_context("/?lang=zh_CN"):
            assert when("2025-05-28T01:00:00.000Z") == "2025年5月28日周三 09:00"
    finally:
        monkeypatch.undo()
        time.tzset()
