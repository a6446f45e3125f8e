"""Roster import: CSV and XLSX with the Chinese headers town offices use (the columns here are
also what records/roster_export.py writes).

An import checks every row first (schema, gazetteer, duplicates inside the file
and against the roster) and writes nothing unless every row is good: a typo on
row 40 never leaves 39 people half-imported.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from marshmallow import ValidationError

from fieldsync import labels
from fieldsync.errors import BadRequest, ValidationFailed
from fieldsync.i18n import N_, _, validation_messages
from fieldsync.records import people, validators
from fieldsync.records.pii import Sealer
from fieldsync.records.schemas import PersonSchema
from fieldsync.records.validators import whole_number_or_none
from fieldsync.store import Store

MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10  # offices put a title line or two above the header row
ROW_LIMIT = MAX_ROWS + HEADER_SEARCH_ROWS + 1  # read no further: a huge upload stops here
STATUSES = labels.chinese("status")


@dataclass(frozen=True)
class Column:
    key: str                     # a PersonSchema field, or town_code / village_code
    label: str                   # the Chinese header we write and read
    aliases: tuple[str, ...] = ()
    text: bool = False           # digits that must stay text in Excel (phones, IDs, codes)


COLUMNS = (
    Column("name", "姓名"),
    Column("gender", "性别"),
    Column("birth_year", "出生年份", ("出生年", "出生日期", "出生年月", "出生时间")),
    Column("phone", "手机号码", ("手机", "手机号", "联系电话", "mobile"), text=True),
    Column("id_number", "身份证号码", ("身份证号", "身份证", "公民身份号码"), text=True),
    Column("town", "乡镇", ("乡镇（街道）", "镇街")),
    Column("town_code", "乡镇代码", (), text=True),
    Column("village", "村", ("村（社区）", "村居", "社区")),
    Column("village_code", "村代码", ("村（社区）代码",), text=True),
    Column("level", "等级", ("级别", "技术等级")),
    Column("specialty", "项目", ("指导项目", "专长")),
    Column("certificate_no", "证书编号", ("证书号",), text=True),
    Column("registered_at", "注册日期", ("注册时间",)),
)
STATUS_COLUMN = Column("status", "状态")
LABELS = {c.key: c.label for c in COLUMNS} | {"status": STATUS_COLUMN.label}
EXPORT_COLUMNS = COLUMNS + (STATUS_COLUMN,)


def _header_key(text) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    text = re.sub(r"\s+|[*＊]", "", text)
    return re.sub(r"\(.*?\)$", "", text) or text


HEADERS = {_header_key(name): column for column in COLUMNS
           for name in (column.key, column.label, *column.aliases)}


# -- reading files --------------------------------------------------------------

@dataclass
class RowError:
    row: int          # the row number the user sees in Excel (header row included)
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("Row %(row)s %(column)s: %(message)s", row=self.row, column=self.column, message=self.message)
        return _("Row %(row)s: %(message)s", row=self.row, message=self.message)


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


def read_table(content: bytes, filename: str = "") -> list[tuple[int, list]]:
    """The rows of the file as (row number, cells): XLSX by content, else CSV."""
    if content[:4] == b"\xd0\xcf\x11\xe0":
        raise BadRequest(_("This is an old Excel .xls file; save it as .xlsx (Excel 工作簿) or CSV and upload that."),
                         code="unsupported_file")
    if content[:2] == b"PK":
        rows = _xlsx_rows(content)
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise BadRequest(_("%(file)s is not a readable Excel file.", file=filename), code="unsupported_file")
    else:
        rows = _csv_rows(decode_csv(content))
    if len(rows) > ROW_LIMIT:
        raise ValidationFailed(_("The file has more than %(max)s rows; import at most %(max)s at a time.", max=MAX_ROWS),
                               code="too_many_rows")
    return rows


def _xlsx_rows(content: bytes) -> list[tuple[int, list]]:
    import openpyxl  # here, not at the top: ~12 MB the serving process needs only for spreadsheets

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0].iter_rows(values_only=True)
            return [(number, list(cells)) for number, cells in
                    itertools.islice(enumerate(sheet, start=1), ROW_LIMIT + 1)]
        finally:
            book.close()
    except Exception as exc:  # noqa: BLE001 -- whatever breaks inside a damaged upload, the answer is the same
        raise BadRequest(_("The Excel file cannot be read (%(problem)s); save it again from Excel and retry.",
                           problem=type(exc).__name__), code="unsupported_file") from None


def decode_csv(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Excel on Chinese Windows)."""
    if content.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadRequest(_("The file is neither UTF-8 nor GBK/GB18030 text; save it as CSV (UTF-8) or .xlsx."),
                     code="bad_encoding")


def _csv_rows(text: str) -> list[tuple[int, list]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [(reader.line_num, cells) for cells in itertools.islice(reader, ROW_LIMIT + 1)]
    except csv.Error as exc:
        raise BadRequest(_("The CSV file is malformed near line %(line)s: %(problem)s.", line=reader.line_num,
                           problem=exc),
                         code="bad_csv") from None


def _find_header(rows: list[tuple[int, list]]) -> tuple[int, dict[int, Column], list[str]]:
    """The header row: the first of the top rows that has a 姓名 (name) column."""
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(c) for c in cells]
        if "姓名" not in keys and "name" not in keys:
            continue
        mapping, ignored, seen = {}, [], {}
        for position, (cell, key) in enumerate(zip(cells, keys)):
            column = HEADERS.get(key)
            if column is None:
                if key:
                    ignored.append(str(cell).strip())
                continue
            if column.key in seen:
                raise ValidationFailed(_("Two columns mean %(label)s: %(first)s and %(second)s. Keep one.",
                                         label=column.label, first=seen[column.key], second=cell),
                                       code="duplicate_column")
            seen[column.key] = str(cell).strip()
            mapping[position] = column
        return index, mapping, ignored
    raise ValidationFailed(_("No header row with a 姓名 column in the first rows. The first row should name the "
                             "columns: %(columns)s.", columns="姓名, 性别, 出生年份, 手机号码, 身份证号码, 乡镇, 村, 等级, 项目, "
                                                            "证书编号, 注册日期"),
                           code="no_header")


# -- checking rows --------------------------------------------------------------

DATE_TEXT = re.compile(r"^([0-9]{4})\s*[年/.\-]\s*([0-9]{1,2})\s*[月/.\-]\s*([0-9]{1,2})\s*日?$")
PERSON_FIELDS = set(PersonSchema().load_fields)


class _CellProblem(Exception):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key, self.message = key, message


def _filled(value) -> bool:
    return value is not None and str(value).strip() != ""


GENDER_WORDS = {"m": "male", "f": "female", "男性": "male", "女性": "female"}


def _cell_text(column: Column, value) -> str | None:
    """A cell as the text PersonSchema reads, or _CellProblem for what Excel has spoiled."""
    if column.key == "birth_year" and _filled(value):
        return validators.birth_year(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if column.key == "id_number":
            raise _CellProblem(column.key, _("Excel stored this ID number as a number and has dropped its last "
                                             "digits. Format the column as text (文本) and type the numbers again."))
        return str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if column.key in ("phone", "id_number") and "*" in text:
        raise _CellProblem(column.key, _("This value is masked (an export without full values); "
                                         "it cannot be imported. Type the full number."))
    if column.key == "registered_at" and (found := DATE_TEXT.match(text)):
        return "{:04d}-{:02d}-{:02d}".format(*map(int, found.groups()))
    if column.key == "gender":
        return GENDER_WORDS.get(text.lower(), text)
    return text


PLACE_KINDS = {"town": N_("town (乡镇)"), "village": N_("village (村)")}


class Gazetteer:
    """Towns and villages by 12-digit code or by name, loaded once per import."""

    def __init__(self, store: Store):
        self.places = {row["code"]: row for row in store.query(
            "SELECT code, name, kind, parent FROM places WHERE kind IN ('town', 'village')")}
        self.children: dict[tuple[str, str | None], list[dict]] = {}
        for place in self.places.values():
            parent = place["parent"] if place["kind"] == "village" else None
            self.children.setdefault((place["kind"], parent), []).append(place)

    def resolve(self, text: str, kind: str, town: str | None = None) -> str:
        kind_name = _(PLACE_KINDS[kind])
        if town:
            kind_name = _("%(kind)s of %(town)s", kind=kind_name, town=self.places[town]["name"])
        candidates = self.children.get((kind, town), [])
        if whole_number_or_none(text, max_digits=12) is not None:
            if any(p["code"] == text for p in candidates):
                return text
            raise ValueError(_("%(text)s is not the code of a %(kind)s in the gazetteer.", text=text, kind=kind_name))
        found = ([p for p in candidates if p["name"] == text]
                 or [p for p in candidates if p["name"].startswith(text)])
        if len(found) == 1:
            return found[0]["code"]
        if not found:
            raise ValueError(_("%(text)s is not a %(kind)s in the gazetteer.", text=text, kind=kind_name))
        raise ValueError(_("%(text)s could be %(names)s; write the 12-digit code.", text=text,
                           names=", ".join(p["name"] for p in found)))


class _Duplicates:
    """Who is already on the roster (unless the import matches people instead) or earlier in the
    file: same ID number, or same name and phone; and who holds each certificate number."""

    def __init__(self, store: Store, against_roster: bool = True):
        self.sealer = Sealer(store.path.parent)
        self.by_id: dict[str, str] = {}
        self.by_name_phone: dict[tuple[str, str], str] = {}
        self.certificates: dict[str, tuple[str, str]] = {}   # number -> (holder id, 张三（张村镇）)
        for row in store.query("SELECT p.id, p.name, p.phone, p.id_number_hash, p.status, p.certificate_no,"
                               " COALESCE(t.name, p.town) AS town FROM people p"
                               " LEFT JOIN places t ON t.code = p.town"):
            if row["certificate_no"]:
                self.certificates[row["certificate_no"]] = (row["id"], f"{row['name']}（{row['town']}）")
            if not against_roster:
                continue
            known = (_("already on the roster as %(name)s (注销 cancelled: restore them instead)", name=row["name"])
                     if row["status"] == "cancelled" else _("already on the roster as %(name)s", name=row["name"]))
            if row["id_number_hash"]:
                self.by_id[row["id_number_hash"]] = known
            if row["phone"]:
                self.by_name_phone[(row["name"], row["phone"])] = known

    def id_hash(self, person: dict) -> str | None:
        return self.sealer.keyed_hash(person["id_number"]) if person.get("id_number") else None

    def check(self, row: int, person: dict) -> RowError | None:
        id_hash = self.id_hash(person)
        name_phone = (person["name"], person["phone"]) if person.get("phone") else None
        if id_hash in self.by_id:
            return RowError(row, LABELS["id_number"], _("This ID number is %(known)s.", known=self.by_id[id_hash]))
        if name_phone in self.by_name_phone:
            return RowError(row, LABELS["phone"], _("Same name and phone: %(known)s.", known=self.by_name_phone[name_phone]))
        if id_hash:
            self.by_id[id_hash] = _("the same as on row %(row)s", row=row)
        if name_phone:
            self.by_name_phone[name_phone] = _("the same as on row %(row)s", row=row)
        return None

    def certificate(self, row: int, number: str | None, person_id: str | None = None) -> RowError | None:
        """A certificate number belongs to one person (people.refuse_taken_certificate's rule, checked
        here for every row before anything is written)."""
        if not number:
            return None
        holder = self.certificates.get(number)
        claimant = person_id or f"row {row}"
        if holder and holder[0] != claimant:
            return RowError(row, LABELS["certificate_no"], _("Certificate number %(number)s already belongs to %(name)s",
                                                             number=number, name=holder[1]))
        self.certificates[number] = (claimant, _("row %(row)s", row=row))
        return None


class _RowChecker:
    def __init__(self, store: Store, mapping: dict[int, Column], default_town: str | None,
                 against_roster: bool = True):
        self.mapping = mapping
        self.default_town = default_town
        self.against_roster = against_roster
        self.gazetteer = Gazetteer(store)
        self.duplicates = _Duplicates(store, against_roster)
        self.schema = PersonSchema()

    def check(self, row: int, cells: list) -> tuple[dict | None, list[RowError]]:
        """The row as a loaded PersonSchema dict, or every problem it has."""
        raw, errors = self._cells(row, cells)
        unplaced = set()
        try:
            raw["town"], raw["village"] = self._places(raw)
        except _CellProblem as problem:
            errors.append(RowError(row, LABELS[problem.key], problem.message))
            unplaced = {"town", "village"}  # already reported: no second message about the code
        try:
            person = self.schema.load({k: v for k, v in raw.items() if k in PERSON_FIELDS and v is not None})
        except ValidationError as err:
            errors += [RowError(row, LABELS.get(key, key), " ".join(map(str, messages)))
                       for key, messages in validation_messages(err.messages).items() if key not in unplaced]
            return None, errors
        if errors:
            return None, errors
        duplicate = self.duplicates.check(row, person) or (
            self.duplicates.certificate(row, person.get("certificate_no")) if self.against_roster else None)
        return (None, [duplicate]) if duplicate else (person, [])

    def _cells(self, row: int, cells: list) -> tuple[dict, list[RowError]]:
        raw, errors = {}, []
        for position, column in self.mapping.items():
            try:
                text = _cell_text(column, cells[position] if position < len(cells) else None)
            except _CellProblem as problem:
                errors.append(RowError(row, column.label, problem.message))
                continue
            if text is not None:
                raw[column.key] = text
        return raw, errors

    def _places(self, raw: dict) -> tuple[str | None, str | None]:
        town = self._one_place(raw, "town", None) or self.default_town
        if town is None:
            raise _CellProblem("town", _("Missing: write the town (乡镇) or its 12-digit code."))
        return town, self._one_place(raw, "village", town)

    def _one_place(self, raw: dict, kind: str, town: str | None) -> str | None:
        """The place a row names by code, by name, or by both (which must then agree)."""
        codes = set()
        for key in (f"{kind}_code", kind):
            if raw.get(key):
                try:
                    codes.add(self.gazetteer.resolve(raw[key], kind, town))
                except ValueError as exc:
                    raise _CellProblem(key, str(exc)) from None
        if len(codes) > 1:
            raise _CellProblem(kind, _("%(name)s and %(code)s name different places.", name=LABELS[kind],
                                      code=LABELS[kind + "_code"]))
        return codes.pop() if codes else None


def check_file(store: Store, content: bytes, filename: str = "", *, default_town: str | None = None,
               against_roster: bool = True) -> tuple[ImportReport, list[tuple[int, dict]], _RowChecker]:
    """Read and check every row: the report, the good rows as (row number, PersonSchema dict), and
    the checker (its duplicates know the roster's ID hashes and certificate numbers)."""
    rows = read_table(content, filename)
    header, mapping, ignored = _find_header(rows)
    if not default_town and not {"town", "town_code"} & {c.key for c in mapping.values()}:
        raise ValidationFailed(_("The file has no 乡镇 (town) column and no default town was given."),
                               code="no_town")
    body = [(number, cells) for number, cells in rows[header + 1:] if any(map(_filled, cells))]
    if not body:
        raise ValidationFailed(code="empty_roster")
    if len(body) > MAX_ROWS:
        raise ValidationFailed(_("The file has %(num)s people; import at most %(max)s at a time.", num=len(body),
                                 max=MAX_ROWS),
                               code="too_many_rows")
    checker = _RowChecker(store, mapping, default_town, against_roster)
    report = ImportReport(rows=len(body), ignored_columns=ignored)
    valid = []
    for number, cells in body:
        person, errors = checker.check(number, cells)
        report.errors += errors
        if person is not None:
            valid.append((number, person))
    return report, valid, checker


def import_roster(store: Store, content: bytes, filename: str = "", *, actor: str | None = None,
                  dry_run: bool = False, default_town: str | None = None) -> ImportReport:
    """Check every row; register all of them in one transaction, or none if any row is bad."""
    report, valid, _ = check_file(store, content, filename, default_town=default_town)
    report.dry_run = dry_run
    if report.ok and not dry_run:
        report.imported = people.register_many(store, [person for _, person in valid], actor=actor)
    return report
