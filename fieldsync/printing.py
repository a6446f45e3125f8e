"""Pages and files rendered from kiosk_templates/ without Flask, above records/: the badge sheet's
HTML print page (the same page the server shows at /badges) and the writer of a sheet to a file.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fieldsync.errors import BadRequest
from fieldsync.i18n import _
from fieldsync.records import badge_sheet
from fieldsync.records.roster_export import check_folder
from fieldsync.store import Store


def templates_root() -> Path:
    """kiosk_templates/ inside the installed package, or beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "kiosk_templates", here.parent / "kiosk_templates"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("kiosk_templates/ not found: reinstall fieldsync")


def badge_sheet_html(made: list[badge_sheet.Card], locale: str = "zh_CN", nonce: str = "") -> str:
    """The /badges print page, the same from the web and from the command line. Its style and
    print button are inline so the file stands alone; the web page allows them by nonce."""
    return _jinja(locale).get_template("badges.html").render(cards=made, layout=badge_sheet.LAYOUT, nonce=nonce)


@functools.lru_cache(maxsize=4)
def _jinja(locale: str):
    # Rendered without Flask so the CLI makes the very page the server shows.
    from babel.support import Translations
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(templates_root())), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"])
    translations = Translations.load(str(Path(__file__).resolve().parent / "translations"), [locale])
    env.install_gettext_translations(translations, newstyle=True)
    env.globals["lang"] = "en" if locale == "en" else "zh-CN"
    return env


def write_badge_sheet(store: Store, output: Path, roster: list[dict]) -> list[Path]:
    """Write the sheet as .pdf, .png (one file a page: sheet.png, sheet-2.png, ...) or .html."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".png", ".html"):
        raise BadRequest(_("Write badges to a .pdf, .png or .html file, not %(name)s.", name=output.name),
                         code="unsupported_file")
    check_folder(output)
    made = badge_sheet.cards(store, roster)
    if suffix == ".html":
        output.write_text(badge_sheet_html(made), encoding="utf-8")
        return [output]
    font = badge_sheet.find_font()
    if suffix == ".pdf":
        output.write_bytes(badge_sheet.render_pdf(made, font))
        return [output]
    written = []
    for number, image in enumerate(badge_sheet.render_png(made, font), start=1):
        path = output if number == 1 else output.with_name(f"{output.stem}-{number}{output.suffix}")
        image.save(path, format="PNG", dpi=(badge_sheet.DPI, badge_sheet.DPI))
        written.append(path)
    return written
