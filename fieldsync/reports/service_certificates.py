"""志愿服务记录证明: a PDF per volunteer and year of their reviewed service, and its check.

What a certificate states is fixed when it is issued: the holder's name, the year, the reviewed
minutes and the number of activities, and the date. The hub signs those with its issuer key
(Ed25519, the key that signs hub badges and laptop certificates, under its own "FSVC1:" context)
and keeps the row; the verification code is the first 80 bits of SHA-256 over that signature, in
16 base32 characters: short enough to type, too many to guess. /verify/<code> finds the row,
checks the signature against the hub's key, shows what was issued, and says so when later
reviews changed the year's figures since (docs/decisions/0251-service-certificates.md).
Figures come from reports/hours.py: ended, approved activities, corrections applied (0170).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _
from fieldsync.records import badge_sheet, badges, people
from fieldsync.records.schemas import GENDERS
from fieldsync.reports import hours, units
from fieldsync.store import Store

CONTEXT = "FSVC1:"    # never a badge's "FS1:" nor a key certificate's "FSKEY1:": one key signs all three
CODE_LEN = 16
TYPO = str.maketrans({"0": "O", "1": "I", "8": "B", "-": None, " ": None})   # base32 has no 0, 1, 8


@dataclass(frozen=True)
class Check:
    certificate: dict
    current_minutes: int
    current_activities: int

    @property
    def corrected_since(self) -> bool:
        return (self.current_minutes, self.current_activities) != (self.certificate["minutes"],
                                                                   self.certificate["activities"])


def _signed_text(row: dict) -> bytes:
    return (f"{CONTEXT}{row['person_id']}:{row['year']}:{row['minutes']}:{row['activities']}:"
            f"{row['issued_on']}:{row['name']}").encode()


def _code_of(signature: bytes) -> str:
    return base64.b32encode(hashlib.sha256(signature).digest()).decode()[:CODE_LEN]


def spaced(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX, as printed and typed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def issuer(db: Database, settings: dict) -> str:
    """The association named on the certificate: config CERTIFICATE_ISSUER, else the hub's unit's association."""
    return settings.get("CERTIFICATE_ISSUER") or f"{units.top(db)['name']}社会体育指导员协会"


def issue(store: Store, person_id: str, year: int, *, actor: str | None = None) -> tuple[dict, list[dict]]:
    """The certificate of the person's reviewed service in the year (the one already issued if
    the figures have not changed since), and the activities it lists."""
    person = people.get(store, person_id)
    served = hours.served(store.db, person_id, year)
    if not served:
        raise Conflict(_("%(name)s has no reviewed volunteer hours in %(year)s; nothing to certify.",
                         name=person["name"], year=year), code="no_reviewed_hours")
    row = {"person_id": person_id, "year": year, "name": person["name"],
           "minutes": sum(a["minutes"] for a in served), "activities": len(served)}
    same = store.query_one("SELECT * FROM service_certificates WHERE person_id = ? AND year = ? AND name = ?"
                           " AND minutes = ? AND activities = ? ORDER BY issued_on DESC LIMIT 1",
                           [person_id, year, row["name"], row["minutes"], row["activities"]])
    if same:
        return same, served
    key_id, private = badges.signing_key(store)
    row["issued_on"] = date.today().isoformat()
    signature = private.sign(_signed_text(row))
    row.update(code=_code_of(signature), key_id=key_id, signature=base64.b64encode(signature).decode(), actor=actor)
    store.write(lambda db: db["service_certificates"].insert(row))
    return row, served


def check(store: Store, typed: str) -> Check:
    """The certificate a typed or scanned code names, its signature checked, with today's figures."""
    code = (typed or "").upper().translate(TYPO)
    row = store.query_one("SELECT * FROM service_certificates WHERE code = ?", [code]) if len(code) == CODE_LEN else None
    if row is None:
        raise NotFound(code="service_certificate_not_found")
    try:
        signature = base64.b64decode(row["signature"], validate=True)
    except ValueError:
        signature = b""
    if not (badges.verifies(badges.own_public_key(store), signature, _signed_text(row))
            and _code_of(signature) == code):
        raise Conflict(code="service_certificate_altered")
    now = hours.served(store.db, row["person_id"], row["year"])
    return Check(row, sum(a["minutes"] for a in now), len(now))


def render(certificate: dict, served: list[dict], person: dict, *, issuer_name: str, verify_url: str) -> bytes:
    """The A4 certificate: who, the year's total, each activity, the issuer, the code and its QR."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = badge_sheet.find_font()
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    pdf.add_page()
    pdf.set_font("cjk", size=22)
    pdf.cell(0, 16, "志愿服务记录证明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    who = "，".join(filter(None, [GENDERS.get(person.get("gender") or "", ""), person.get("id_number_masked") or ""]))
    pdf.multi_cell(0, 8, f"兹证明 {certificate['name']}{f'（{who}）' if who else ''}于{certificate['year']}年参加全民健身"
                         f"志愿服务活动 {certificate['activities']} 次，经举办单位审核的志愿服务时长共计 "
                         f"{hours.hours(certificate['minutes'])} 小时。服务记录如下：", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=10)
    with pdf.table(col_widths=(10, 26, 58, 42, 24), headings_style=FontFace(emphasis=None),
                   text_align=("CENTER", "CENTER", "LEFT", "LEFT", "CENTER")) as table:
        table.row(("序号", "日期", "活动名称", "举办单位", "时长（小时）"))
        for number, activity in enumerate(served, start=1):
            table.row((str(number), _chinese_date(activity["starts_at"]), activity["title"] or "",
                       activity["organizer"] or "", f"{activity['hours']}{'（估算）' if activity['estimated'] else ''}"))
    _footer(pdf, certificate, issuer_name, verify_url)
    return bytes(pdf.output())


def _footer(pdf, certificate: dict, issuer_name: str, verify_url: str) -> None:
    if pdf.get_y() > 297 - 80:
        pdf.add_page()
    top = pdf.get_y() + 8
    pdf.set_font("cjk", size=9)
    pdf.set_xy(20, top)
    pdf.multi_cell(120, 5, "依据《志愿服务记录与证明出具办法（试行）》出具。时长为实际服务时间，不含交通时间，"
                           "经举办单位审核计入。", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.text(20, top + 24, f"出具单位：{issuer_name}（盖章）")
    pdf.text(20, top + 32, f"出具日期：{_chinese_date(certificate['issued_on'])}")
    pdf.set_font("cjk", size=10)
    pdf.text(20, top + 44, f"核验码：{spaced(certificate['code'])}")
    pdf.text(20, top + 50, f"扫描右侧二维码，或打开 {verify_url.rsplit('/', 1)[0]}/ 输入核验码核验")
    badge_sheet.draw_qr(_Dark(pdf), verify_url, 150, top, 40)


class _Dark:
    """What badge_sheet.draw_qr draws on: dark rectangles in mm."""

    def __init__(self, pdf):
        self.pdf = pdf
        pdf.set_fill_color(0)

    def dark(self, x: float, y: float, w: float, h: float) -> None:
        self.pdf.rect(x, y, w, h, style="F")


def _chinese_date(text: str | None) -> str:
    """2024年5月1日 (GB/T 9704: no leading zeros)."""
    if not text or len(text) < 10:
        return text or ""
    year, month, day = (int(part) for part in text[:10].split("-"))
    return f"{year}年{month}月{day}日"
