"""Normalise and check the values Chinese offices write down (shared/CONVENTIONS.md).

Each function returns the normalised value or raises ValueError with a
message fit to show a user. marshmallow fields wrap them in records/schemas.py.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from fieldsync.i18n import _
from fieldsync.store import clock

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PROVINCE_PREFIXES = {
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
    *range(61, 66), 71, 81, 82, 83,
}
LOOKALIKE_DOTS = dict.fromkeys(map(ord, "\u30fb\u2022\u2027\u22c5\u2219\uff65"), "\u00b7")
# Digits are [0-9], never \d: in Python's re (and in int() and str.isdigit()) \d also matches
# Arabic-Indic, Devanagari, full-width... digits, so ٠١٢ would pass and store a second value
# (and a second keyed hash) for a number already registered. NFKC maps full-width digits to ASCII.
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")
EXTENSION = re.compile(r"(?:转|ext\.?|x)\s*([0-9]{1,6})$", re.IGNORECASE)
WHOLE = re.compile(r"-?[0-9]+")
DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
MAX_DIGITS = 18            # below 2**63: every number we read fits an SQLite INTEGER
NAME_CHARS = re.compile(r"^[\w\u00b7 .'\-]+$")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()


def whole_number(text: str, *, max_digits: int = MAX_DIGITS, signed: bool = False) -> int:
    """An integer written as text (a header, a query argument, a cursor, a CLI argument, a form
    field, an imported cell): ASCII digits 0-9 only, at most max_digits of them, a leading '-'
    only when signed. int() and str.isdigit() also take '²', '①', '٣' and 5,000-digit numbers."""
    if not isinstance(text, str) or not WHOLE.fullmatch(text) or (text[0] == "-" and not signed):
        raise ValueError(_("%(text)r is not a whole number written with the digits 0-9.", text=str(text)[:20]))
    if len(text.lstrip("-")) > max_digits:
        raise ValueError(_("%(text)s... has more than %(max)s digits.", text=text[:20], max=max_digits))
    return int(text)


def whole_number_or_none(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """whole_number, or None where text that is not one simply means something else."""
    try:
        return whole_number(text, max_digits=max_digits)
    except ValueError:
        return None


def decimal_number(text: str, *, max_digits: int = MAX_DIGITS) -> float:
    """A decimal written as text (such as 2.5 hours): ASCII digits, an optional '-' and '.',
    at most max_digits digits; no exponent, no inf or nan."""
    if not isinstance(text, str) or not DECIMAL.fullmatch(text):
        raise ValueError(_("%(text)r is not a number written with the digits 0-9.", text=str(text)[:20]))
    if len(text) - text.count("-") - text.count(".") > max_digits:
        raise ValueError(_("%(text)s... has more than %(max)s digits.", text=text[:20], max=max_digits))
    return float(text)


def person_name(value: str) -> str:
    """CJK (every extension) or Latin letters, the middle dot, 1-50 code points."""
    name = unicodedata.normalize("NFC", str(value)).translate(LOOKALIKE_DOTS)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = _wide_spaces_dropped(re.sub(r"\s+", " ", name))
    if not name:
        raise ValueError(_("Name is empty."))
    if len(name) > 50:
        raise ValueError(_("Name is longer than 50 characters."))
    if not NAME_CHARS.match(name) or any(ch.isdigit() or ch == "_" for ch in name):
        raise ValueError(_("Name %(name)r has characters a name cannot have.", name=name))
    return name


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _wide_spaces_dropped(name: str) -> str:
    """A space beside a CJK character is padding (offices align 张　三 with 欧阳娜娜), not part of
    the name; spaces between Latin words stay."""
    return "".join(ch for i, ch in enumerate(name)
                   if ch != " " or not (_wide(name[i - 1]) or _wide(name[i + 1])))


BIRTH_TEXT = re.compile(r"((?:19|20)\d\d)(?:\d\d(?:\d\d)?|[年./\-]\s*\d{0,2}[月./\-]?\s*\d{0,2}日?)?")


def birth_year(value) -> str:
    """The year of a birth date as offices write it: 1980, 1980年, 1980.5, 1980-05-03, 1980年5月3日,
    198005, or an Excel date (a date, or a number such as 1980.05)."""
    if hasattr(value, "year"):
        return str(value.year)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    text = re.sub(r"\s", "", _clean(value))
    found = BIRTH_TEXT.fullmatch(text)
    return found.group(1) if found else text


def mobile(value: str) -> str:
    """11-digit mainland mobile, stored as digits (a +86/0086 prefix is dropped)."""
    digits = re.sub(r"[\s\-()]", "", _clean(value))
    digits = re.sub(r"^(\+?86|0086)(?=1[0-9]{10}$)", "", digits)
    if not MOBILE.match(digits):
        raise ValueError(_("%(value)r is not a mobile number (11 digits starting 13-19).", value=value))
    return digits


def contact_phone(value: str) -> str:
    """A mobile, or a landline with area code such as 0631-5212345 (联系方式 columns)."""
    text = _clean(value)
    if not text:
        return ""
    text = EXTENSION.sub(lambda m: f" 转{m.group(1)}", text)
    main, _sep, ext = text.partition(" 转")
    try:
        number = mobile(main)
    except ValueError:
        landline = re.sub(r"[\s()]", "-", main).strip("-").replace("--", "-")
        landline = re.sub(r"^(0[0-9]{2,3})-?", r"\1-", landline)
        if not LANDLINE.match(landline):
            raise ValueError(_("%(value)r is neither a mobile nor a landline with area code.", value=value)) from None
        number = landline
    return f"{number} 转{ext}" if ext else number


def id_number(value: str, *, today: date | None = None) -> str:
    """18-character resident ID number (GB 11643-1999), check character verified."""
    text = re.sub(r"\s", "", _clean(value)).upper()
    if re.fullmatch(r"[0-9]{15}", text):
        raise ValueError(_("15-digit ID numbers are no longer valid; ask for the 18-digit number."))
    if not re.fullmatch(r"[0-9]{17}[0-9X]", text):
        raise ValueError(_("An ID number has 17 digits and a final digit or X."))
    if int(text[:2]) not in PROVINCE_PREFIXES:
        raise ValueError(_("ID number starts with %(prefix)s, which is no province code.", prefix=text[:2]))
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValueError(_("The birth date inside the ID number is not a real date.")) from None
    if born.year < 1900 or born > (today or clock.today()):
        raise ValueError(_("The birth date inside the ID number is out of range."))
    total = sum(int(d) * w for d, w in zip(text[:17], ID_WEIGHTS))
    if ID_CHECK[total % 11] != text[17]:
        raise ValueError(_("The ID number's check character does not match; a digit is probably mistyped."))
    return text


def mask_id_number(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if MOBILE.match(phone):
        return phone[:3] + "****" + phone[-4:]
    return phone[:-4] + "****" if len(phone) > 6 else phone


def mask_name(name: str | None) -> str:
    """A name as a public page shows it: the family name and, from three characters on, the last
    character (张*, 张*丰, 欧**娜); enough for its holder to recognise, too little to find them by."""
    text = name or ""
    if len(text) <= 2:
        return text[:1] + "*" * (len(text) - 1)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def place_code(value: str) -> str:
    """6-digit county code or 12-digit town/village code, kept as text."""
    text = _clean(value)
    if not re.fullmatch(r"[0-9]{6}|[0-9]{12}", text):
        raise ValueError(_("%(value)r is not a 6- or 12-digit place code.", value=value))
    return text
