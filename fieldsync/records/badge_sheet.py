"""Printable A4 badge sheets: 2 × 5 cards a page, drawn as PDF (fpdf2) or PNG (Pillow) pages.
The HTML print page and the file writer live above records/, in fieldsync/printing.py.

Every format draws the same layout, in millimetres, from the constants below:
cards of ID-1 size (85.6 × 54 mm, what card sleeves and lanyards fit) with
name, town, village, level and the signed QR. PDF and PNG need a font with
Chinese glyphs; `find_font` looks where Debian, Windows and macOS keep one.

Printed on the hub, each page of cards is followed by a page of their backs, columns mirrored
for long-edge duplex printing: the QR of the instructor's personal link to their own page
(records/personal_links.py, decision 0250). A reprint carries the new link.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from fieldsync.errors import Conflict, FieldsyncError, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import badges, people, personal_links, places
from fieldsync.records.schemas import LEVELS
from fieldsync.store import Store

PAGE_W, PAGE_H = 210.0, 297.0
CARD_W, CARD_H = 85.6, 54.0
COLUMNS, ROWS = 2, 5
GAP_X, GAP_Y = 8.0, 2.5
MARGIN_X = (PAGE_W - COLUMNS * CARD_W - (COLUMNS - 1) * GAP_X) / 2
MARGIN_Y = (PAGE_H - ROWS * CARD_H - (ROWS - 1) * GAP_Y) / 2
PER_PAGE = COLUMNS * ROWS
QR_SIZE = 46.0       # the QR with its quiet zone, mm
QR_QUIET = 4         # modules of white around the code, as ISO/IEC 18004 asks
PAD = 4.0
DPI = 300
MAX_CARDS = 5000
LAYOUT = {"page_w": PAGE_W, "page_h": PAGE_H, "card_w": CARD_W, "card_h": CARD_H, "gap_x": GAP_X,
          "gap_y": GAP_Y, "margin_x": MARGIN_X, "margin_y": MARGIN_Y, "qr": QR_SIZE, "per_page": PER_PAGE}


@dataclass(frozen=True)
class Card:
    person: dict
    code: str
    town: str
    village: str
    level: str          # the Chinese label, empty for people without a level
    link: str = ""      # the personal link printed on the back (hub only), else no back

    @property
    def svg(self) -> str:
        return badges.qr_svg(self.code)

    @property
    def link_svg(self) -> str:
        return badges.qr_svg(self.link) if self.link else ""


# -- who goes on the sheet ------------------------------------------------------

def select_people(store: Store, person_ids: list[str] = (), town: str | None = None) -> list[dict]:
    """The people named (cancelled ones refused), else the active roster of a town, village by village."""
    if person_ids:
        chosen = [people.get(store, person_id) for person_id in person_ids]
        cancelled = [p["name"] for p in chosen if p["status"] != "active"]
        if cancelled:
            raise Conflict(_("Registration cancelled (注销), no badge printed: %(names)s. Restore them first.",
                             names=", ".join(cancelled)), code="person_cancelled")
        return chosen
    where, params = people.where({"town": town, "status": "active"})   # the account's towns only
    roster = store.query(f"SELECT {', '.join(people.PUBLIC_COLUMNS)} FROM people{where}"
                         " ORDER BY village NULLS FIRST, name LIMIT ?", params + [MAX_CARDS + 1])
    if len(roster) > MAX_CARDS:
        raise ValidationFailed(_("More than %(max)s people; print one village or town at a time.", max=MAX_CARDS),
                               code="too_many_badges")
    return roster


def cards(store: Store, roster: list[dict], *, link_base: str | None = None) -> list[Card]:
    """The cards of the roster; with the hub's address as `link_base`, each with its personal link."""
    if not roster:
        raise ValidationFailed(code="no_people")
    names = places.names(store)
    return [Card(person, badges.issue(store, person), names.get(person["town"], person["town"] or ""),
                 names.get(person["village"], person["village"] or ""),
                 LEVELS[person["level"]] if person["level"] in LEVELS and person["level"] != "none" else "",
                 _link(store, person, link_base))
            for person in roster]


def _link(store: Store, person: dict, link_base: str | None) -> str:
    token = personal_links.current(store, person) if link_base else None   # None: revoked on purpose
    return f"{link_base.rstrip('/')}/me/{token}" if token else ""


# -- geometry shared by every format ---------------------------------------------

def slot(index: int) -> tuple[int, float, float]:
    """(page, x, y) of the index-th card's top-left corner, in mm."""
    page, place = divmod(index, PER_PAGE)
    row, column = divmod(place, COLUMNS)
    return page, MARGIN_X + column * (CARD_W + GAP_X), MARGIN_Y + row * (CARD_H + GAP_Y)


def qr_box(x: float, y: float) -> tuple[float, float, float]:
    """Top-left corner and side of a card's QR (quiet zone included), in mm."""
    return x + CARD_W - QR_SIZE - 2, y + (CARD_H - QR_SIZE) / 2, QR_SIZE


def qr_matrix(code: str) -> list[list[bool]]:
    """The QR's modules without a border, exactly as the kiosk camera will read them."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(code)
    qr.make(fit=True)
    return qr.get_matrix()


def draw_qr(canvas, code: str, x: float, y: float, side: float) -> None:
    matrix = qr_matrix(code)
    module = side / (len(matrix) + 2 * QR_QUIET)
    left, top = x + QR_QUIET * module, y + QR_QUIET * module
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):  # one rectangle per run of dark modules keeps the PDF small
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            canvas.dark(left + start * module, top + r * module, (c - start) * module, module)


def _fitted(canvas, text: str, width: float, size: float, smallest: float) -> tuple[str, float]:
    """Shrink the text until it fits the width; below the smallest size, cut it short with an ellipsis."""
    while size > smallest and canvas.width(text, size) > width:
        size -= 0.25
    while len(text) > 1 and canvas.width(text, size) > width:
        text = text[:-2] + "…"
    return text, size


def _draw_card(canvas, card: Card, x: float, y: float) -> None:
    canvas.outline(x, y, CARD_W, CARD_H)
    qx, qy, side = qr_box(x, y)
    draw_qr(canvas, card.code, qx, qy, side)
    width = qx - x - PAD
    lines = [(card.person["name"], 14.5, 7.0, 4.0, 0), (card.town, 25.0, 4.0, 3.0, 0),
             (card.village, 31.0, 4.0, 3.0, 0), (card.level, 41.0, 4.5, 3.5, 0),
             (card.person.get("certificate_no") or "", 47.0, 3.0, 2.5, 90)]
    for text, baseline, size, smallest, grey in lines:
        if text:
            fitted, fitted_size = _fitted(canvas, text, width, size, smallest)
            canvas.text(x + PAD, y + baseline, fitted, fitted_size, grey)


def _draw_back(canvas, card: Card, x: float, y: float) -> None:
    canvas.outline(x, y, CARD_W, CARD_H)
    qx, qy, side = qr_box(x, y)
    draw_qr(canvas, card.link, qx, qy, side)
    width = qx - x - PAD
    for text, baseline, size in ((_("My page"), 14.5, 6.0), (_("Hours, activities,"), 25.0, 3.5),
                                 (_("certificate: scan here"), 30.0, 3.5), (card.person["name"], 41.0, 4.0)):
        fitted, fitted_size = _fitted(canvas, text, width, size, 2.5)
        canvas.text(x + PAD, y + baseline, fitted, fitted_size, 0)


def _draw(canvas, made: list[Card]) -> None:
    for start in range(0, len(made), PER_PAGE):
        sheet = made[start:start + PER_PAGE]
        canvas.new_page()
        for index, card in enumerate(sheet):
            _, x, y = slot(index)
            _draw_card(canvas, card, x, y)
        if any(card.link for card in sheet):
            canvas.new_page()
            for index, card in enumerate(sheet):
                if card.link:
                    _, x, y = slot(mirrored(index))
                    _draw_back(canvas, card, x, y)


def mirrored(index: int) -> int:
    """Where a card's back goes on the next page: same row, column mirrored (long-edge duplex)."""
    row, column = divmod(index % PER_PAGE, COLUMNS)
    return row * COLUMNS + (COLUMNS - 1 - column)


# -- fonts ------------------------------------------------------------------------

def _font_candidates() -> list[Path]:
    windows = Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"
    return [Path(p) for p in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",     # Debian, Ubuntu: fonts-noto-cjk
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",          # Arch
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",   # Fedora
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        windows / "simhei.ttf", windows / "msyh.ttc", windows / "simsun.ttc",
        "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/STHeiti Medium.ttc",
        "/Library/Fonts/Arial Unicode.ttf",
    )]


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int = 0      # the face inside a .ttc collection


def find_font() -> FontFile:
    """$FIELDSYNC_CJK_FONT, else the first Chinese font found where systems keep them."""
    chosen = os.environ.get("FIELDSYNC_CJK_FONT")
    if chosen:
        if not Path(chosen).is_file():
            raise FieldsyncError(_("FIELDSYNC_CJK_FONT is %(path)s, which is not a font file.", path=chosen),
                                 code="no_cjk_font")
        return FontFile(Path(chosen), _simplified_face(Path(chosen)))
    for path in _font_candidates():
        if path.is_file():
            return FontFile(path, _simplified_face(path))
    install = {"win32": "copy simhei.ttf into C:\\Windows\\Fonts", "darwin": "install PingFang"}.get(
        sys.platform, "apt install fonts-noto-cjk")
    raise FieldsyncError(_("No Chinese font found for badge sheets: %(install)s, or set FIELDSYNC_CJK_FONT "
                           "to a .ttf/.ttc/.otf file. The .html sheet needs none.", install=install),
                         code="no_cjk_font")


@functools.lru_cache(maxsize=8)
def _simplified_face(path: Path) -> int:
    """In a collection, the Simplified Chinese face (Noto's is the third); else the first."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        names = [font["name"].getDebugName(1) or "" for font in collection.fonts]
    return next((i for i, name in enumerate(names) if name.endswith(" SC")), 0)


# -- renderers ----------------------------------------------------------------------

class _PdfCanvas:
    def __init__(self, font: FontFile):
        from fpdf import FPDF

        self.pdf = FPDF(unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(0, 0, 0)
        self.pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)

    def _font(self, size: float) -> None:
        self.pdf.set_font("cjk", size=size * 72 / 25.4)

    def new_page(self) -> None:
        self.pdf.add_page()

    def width(self, text: str, size: float) -> float:
        self._font(size)
        return self.pdf.get_string_width(text)

    def text(self, x: float, y: float, text: str, size: float, grey: int) -> None:
        self._font(size)
        self.pdf.set_text_color(grey)
        self.pdf.text(x, y, text)

    def outline(self, x: float, y: float, w: float, h: float) -> None:
        self.pdf.set_draw_color(170)
        self.pdf.set_line_width(0.2)
        with self.pdf.local_context(dash_pattern={"dash": 1.5, "gap": 1.5}):
            self.pdf.rect(x, y, w, h)

    def dark(self, x: float, y: float, w: float, h: float) -> None:
        self.pdf.set_fill_color(0)
        self.pdf.rect(x, y, w, h, style="F")


class _PngCanvas:
    def __init__(self, font: FontFile, dpi: int):
        self.font = font
        self.scale = dpi / 25.4
        self.pages: list[Image.Image] = []     # a page of cards, and of their backs on the hub
        self.draw: ImageDraw.ImageDraw | None = None
        self.fonts: dict[float, ImageFont.FreeTypeFont] = {}

    def px(self, mm: float) -> int:
        return round(mm * self.scale)

    def _font(self, size: float) -> ImageFont.FreeTypeFont:
        if size not in self.fonts:
            self.fonts[size] = ImageFont.truetype(str(self.font.path), self.px(size), index=self.font.index)
        return self.fonts[size]

    def new_page(self) -> None:
        self.pages.append(Image.new("L", (self.px(PAGE_W), self.px(PAGE_H)), 255))
        self.draw = ImageDraw.Draw(self.pages[-1])

    def width(self, text: str, size: float) -> float:
        return self._font(size).getlength(text) / self.scale

    def text(self, x: float, y: float, text: str, size: float, grey: int) -> None:
        self.draw.text((self.px(x), self.px(y)), text, font=self._font(size), fill=grey, anchor="ls")

    def outline(self, x: float, y: float, w: float, h: float) -> None:
        self.draw.rectangle([self.px(x), self.px(y), self.px(x + w), self.px(y + h)], outline=170,
                            width=max(1, self.px(0.2)))

    def dark(self, x: float, y: float, w: float, h: float) -> None:
        # Edges rounded on their own, so neighbouring modules meet without gaps or overlaps.
        self.draw.rectangle([self.px(x), self.px(y), self.px(x + w) - 1, self.px(y + h) - 1], fill=0)


def render_pdf(made: list[Card], font: FontFile) -> bytes:
    canvas = _PdfCanvas(font)
    _draw(canvas, made)
    return bytes(canvas.pdf.output())


def render_png(made: list[Card], font: FontFile, dpi: int = DPI) -> Iterator[Image.Image]:
    """One greyscale image per A4 page (300 dpi: 2480 × 3508 pixels), drawn a sheet at a time
    (its cards, and their backs on the hub): a page is 8 MB in memory, so a town's whole roster
    never sits there at once."""
    for start in range(0, len(made), PER_PAGE):
        canvas = _PngCanvas(font, dpi)
        _draw(canvas, made[start:start + PER_PAGE])
        yield from canvas.pages
