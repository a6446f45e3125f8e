"""社会体育指导员等级证书: certificate numbers, given once by a configurable rule, and the PDF.

A number is drawn when a certificate is first printed for a person who holds a
level but no number yet (a promotion may also bring one typed by hand). It is
stored on the person (certificate_no, certificate_issued_at), so it syncs and a
reprint shows the same number. The rule is config.toml's `certificate_number`,
a Python format string with {year}, {level} (三级...) and {seq}; each
(rule, year, level) draws from its own counter, and a number someone already
holds is skipped. Two offline laptops can still draw the same number: the hub
sends the second holder to review (sync/downstream/merge.py), and an association that
prints on laptops gives each town a rule of its own ("威体指{year}ZC{seq:04d}").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync import config
from fieldsync.errors import Conflict, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records import badge_sheet, mutable, people, scope
from fieldsync.records.schemas import GENDERS, LEVELS
from fieldsync.store import Store, clock
from fieldsync.store.clock import utc_now

DEFAULT_RULE = config.DEFAULTS["CERTIFICATE_NUMBER"]
MAX_PEOPLE = 500


@dataclass(frozen=True)
class Rule:
    number: str = DEFAULT_RULE      # config CERTIFICATE_NUMBER
    issuer: str = ""                # config CERTIFICATE_ISSUER: the organisation named under the seal line

    @classmethod
    def from_config(cls, settings: dict) -> Rule:
        return cls(settings.get("CERTIFICATE_NUMBER") or DEFAULT_RULE, settings.get("CERTIFICATE_ISSUER") or "")

    def format(self, year: int, level: str, seq: int) -> str:
        try:
            return self.number.format(year=year, level=LEVELS.get(level, level), seq=seq)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationFailed(_("The certificate_number rule %(rule)r in config.toml cannot be used "
                                     "(%(problem)s); write it with {year}, {level} and {seq}, e.g. "
                                     "%(example)r.", rule=self.number, problem=exc, example=DEFAULT_RULE),
                                   code="bad_certificate_rule") from None


def assign(store: Store, person_id: str, rule: Rule, *, actor: str | None = None) -> dict:
    """The person with a certificate number: theirs if they have one, else the next by the rule."""
    person = people.get(store, person_id)
    if person["status"] != "active":
        raise Conflict(_("%(name)s is cancelled; no certificate is printed.", name=person["name"]),
                       code="person_cancelled")
    if person["level"] == "none":
        raise Conflict(_("%(name)s holds no level yet; a certificate follows a promotion.", name=person["name"]),
                       code="no_level")
    if person["certificate_no"]:
        return person
    year = clock.today().year

    def work(db: Database) -> dict:
        number = _next_number(db, rule, year, person["level"], person_id)
        return mutable.save_local(db, store.hlc, people.TABLE, person_id,
                                  {"certificate_no": number, "certificate_issued_at": utc_now()},
                                  actor=actor, action="certificate")

    store.write(work)
    return people.get(store, person_id)


def _next_number(db: Database, rule: Rule, year: int, level: str, person_id: str) -> str:
    key = f"{rule.number}|{year}|{level}"
    row = db.execute("SELECT last FROM certificate_sequences WHERE prefix = ?", [key]).fetchone()
    seq = row[0] if row else 0
    while True:
        seq += 1
        number = rule.format(year, level, seq)
        if people.certificate_holder(db, number, person_id) is None:
            break
    db.execute("INSERT INTO certificate_sequences (prefix, last) VALUES (?, ?)"
               " ON CONFLICT(prefix) DO UPDATE SET last = excluded.last", [key, seq])
    return number


def passed_trainees(store: Store, session_id: str) -> list[str]:
    """The people a training's passed assessment promoted: submissions of the session whose form
    grants a level, for people who now hold one."""
    rows = store.query(
        # p.name selected too: PostgreSQL orders a DISTINCT only by what it selects
        "SELECT DISTINCT p.id AS person_id, p.name FROM submissions s JOIN forms f ON f.id = s.form_id"
        " AND f.version = s.form_version JOIN people p ON p.id = s.person_id"
        " WHERE s.session_id = ? AND json_extract(f.definition, '$.promotes') IS NOT NULL"
        " AND p.level != 'none' AND p.status = 'active' ORDER BY p.name, p.id", [session_id])
    return [row["person_id"] for row in rows]


def print_pdf(store: Store, person_ids: list[str], rule: Rule, *, actor: str | None = None) -> bytes:
    """One A4 landscape certificate per person, numbers assigned first (once)."""
    if not person_ids:
        raise ValidationFailed(_("No one to print a certificate for: the training has no passed trainees yet."),
                               code="no_certificates")
    if len(person_ids) > MAX_PEOPLE:
        raise ValidationFailed(_("Print at most %(max)s certificates at a time.", max=MAX_PEOPLE), code="too_many")
    holders = [assign(store, person_id, rule, actor=actor) for person_id in person_ids]
    return _render(holders, rule, badge_sheet.find_font())


def _render(holders: list[dict], rule: Rule, font: badge_sheet.FontFile) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4", orientation="L")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    for person in holders:
        pdf.add_page()
        pdf.set_draw_color(150, 30, 30)
        pdf.set_line_width(1.2)
        pdf.rect(12, 12, 273, 186)
        _centred(pdf, 48, f"{LEVELS[person['level']]}社会体育指导员等级证书", 30)
        _centred(pdf, 92, person["name"], 36)
        details = "  ".join(filter(None, [GENDERS.get(person["gender"] or "", ""),
                                          f"{person['birth_year']}年生" if person["birth_year"] else ""]))
        _centred(pdf, 108, details, 14)
        _centred(pdf, 128, f"经培训考核合格，被授予{LEVELS[person['level']]}社会体育指导员技术等级称号。", 16)
        issued = (person["certificate_issued_at"] or utc_now())[:10]
        pdf.set_font("cjk", size=13)
        pdf.text(30, 176, f"证书编号：{person['certificate_no']}")
        issuer = rule.issuer or "（发证单位盖章）"
        year, month, day = (int(part) for part in issued.split("-"))
        pdf.text(190, 170, issuer)
        pdf.text(190, 180, f"{year}年{month}月{day}日")
    return bytes(pdf.output())


def _centred(pdf, y: float, text: str, size: float) -> None:
    pdf.set_font("cjk", size=size)
    pdf.text((297 - pdf.get_string_width(text)) / 2, y, text)


def register(db: Database, *, year: int | None = None, level: str | None = None) -> list[dict]:
    """Every certificate issued (a person holding a level and a number), by level and year."""
    sql = ("SELECT p.certificate_no, p.level, p.name, p.gender, p.birth_year, p.town, t.name AS town_name,"
           " COALESCE(substr(p.certificate_issued_at, 1, 10), p.registered_at) AS issued_on, p.status"
           " FROM people p LEFT JOIN places t ON t.code = p.town"
           " WHERE p.certificate_no IS NOT NULL AND p.certificate_no != '' AND p.level != 'none'")
    in_scope, params = scope.clause("p.town")   # an account with units: its towns' certificates
    if in_scope:
        sql += f" AND {in_scope}"
    if year:
        sql += " AND substr(COALESCE(p.certificate_issued_at, p.registered_at), 1, 4) = ?"
        params.append(str(year))
    if level:
        sql += " AND p.level = ?"
        params.append(level)
    return [dict(row) for row in db.query(sql + " ORDER BY p.level, issued_on, p.certificate_no", params)]
