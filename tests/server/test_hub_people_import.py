"""The hub's people pages over real HTTP: the association's database imported with a preview,
逐条核实 progress, certificates (PDF and register)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest

from fieldsync import config
from fieldsync.store import Store
from tests.reports import fixture
from tests.support import LiveServer, run_cli

HEADER = ["序号", "姓名", "性别", "出生日期", "联系电话", "乡镇（街道）", "村（社区）", "技术等级", "证书编号"]
ROWS = [
    [1, "李强", "M", "1975-03-02", "138 0000 0002", "张村", "", "", ""],               # matched: fills gender, year
    [2, "张伟", "男", 1980, "13800000003", "张村镇", "泉埠", "三级", ""],               # matched: level differs
    [3, "孙\u3000丽", "女", "1985.6", "+86 139-0000-0111", "张村", "梨林", "三级", "威体指2019001"],  # new
    [4, "杨磊", "", "", "13800000006", "羊亭", "", "", ""],                             # matched, the same
]


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["威海市社会体育指导员名册"])
    for row in [HEADER, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub-people")
    ids = fixture.build_instance(path)
    config.save(path, certificate_number="威体指{year}{seq:05d}", certificate_issuer="威海市社会体育指导员协会")
    with LiveServer(path, hub=True) as server:
        server.ids = ids
        yield server


@pytest.fixture(scope="module")
def staff(hub):
    return fixture.signed_in(hub, "staff")


def _person(hub, name: str) -> list[dict]:
    with Store(hub.instance / "fieldsync.db") as store:
        return store.query("SELECT * FROM people WHERE name = ? ORDER BY registered_at", [name])


def test_the_association_database_is_previewed_then_exactly_that_is_imported(hub, staff, tmp_path):
    content = _xlsx(ROWS)
    upload = {"files": {"roster": ("名册.xlsx", content)}}
    preview = staff.post("/hub/people/import", data={"csrf_token": staff.csrf}, **upload)
    assert preview.status_code == 200, preview.text
    summary = dict(re.findall(r'<tr class="(\w+)"><td[^>]*>[^<]*</td><td[^>]*>(\d+)</td>', preview.text))
    assert summary == {"new": "1", "matched": "1", "changed": "1", "conflicts": "1", "errors": "0"}
    assert "张伟" in preview.text and "三级" in preview.text and not _person(hub, "孙丽")   # nothing written yet
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', preview.text).group(1)
    done = staff.post("/hub/people/import/confirm", data={"csrf_token": staff.csrf, "digest": digest},
                      allow_redirects=False)
    assert done.status_code == 302
    new = _person(hub, "孙丽")
    assert len(new) == 1 and (new[0]["phone"], new[0]["birth_year"], new[0]["level"]) == ("13900000111", 1985, "level3")
    filled = _person(hub, "李强")
    assert len(filled) == 1 and (filled[0]["gender"], filled[0]["birth_year"]) == ("male", 1975)
    assert _person(hub, "张伟")[0]["level"] == "level2"                                     # a conflict stays
    again = staff.post("/hub/people/import/confirm", data={"csrf_token": staff.csrf, "digest": digest})
    assert again.status_code == 404
    file = tmp_path / "名册.xlsx"
    file.write_bytes(content)
    dry = run_cli(hub.instance, "people", "import", str(file), "--dry-run")
    assert re.search(r"^new\s+0$", dry.stdout, re.MULTILINE) and re.search(r"^matched\s+3\s+rows 3, 5, 6$", dry.stdout, re.MULTILINE)
    assert re.search(r"^conflicts\s+1\s+rows 4$", dry.stdout, re.MULTILINE) and "Row 4 张伟: 等级 二级 ≠ 三级" in dry.stdout
    assert "Nothing written" in dry.stdout


def test_a_preview_is_refused_once_the_roster_has_changed(hub, staff):
    content = _xlsx([[1, "周涛", "男", "1990", "13700000001", "张村", "", "", ""]])
    preview = staff.post("/hub/people/import", data={"csrf_token": staff.csrf},
                         files={"roster": ("r.xlsx", content)})
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', preview.text).group(1)
    staff.form("/hub/people", {"name": "周涛", "phone": "13700000001", "town": fixture.T1})
    late = staff.post("/hub/people/import/confirm", data={"csrf_token": staff.csrf, "digest": digest})
    assert late.status_code == 409 and len(_person(hub, "周涛")) == 1


def test_verification_progress_per_town_and_certificates(hub, staff, tmp_path):
    p7 = hub.ids["p7"]                                       # 赵敏, 三级, no certificate number
    page = staff.get("/hub/people")
    progress = re.search(r'id="verification-progress".*?</table>', page.text, re.DOTALL).group(0)
    assert re.search(r"<td[^>]*>石岛镇</td><td[^>]*>0</td><td[^>]*>3</td>", progress)
    assert staff.form(f"/people/{p7}/verify", {}).status_code == 200
    person_page = staff.get(f"/hub/people/{p7}").text
    assert "staff" in person_page and f"/people/{p7}/certificate.pdf" in person_page
    assert re.search(r"<td[^>]*>石岛镇</td><td[^>]*>1</td><td[^>]*>3</td>", staff.get("/hub/people").text)
    pdf = staff.get(f"/people/{p7}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    number = f"威体指{date.today().year}00001"
    if shutil.which("pdftotext"):
        (tmp_path / "c.pdf").write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], check=True, capture_output=True, text=True).stdout
        assert "赵敏" in text and number in text
    register = staff.get(f"/certificates?year={date.today().year}")
    assert register.status_code == 200 and number in register.text and "赵敏" in register.text
    sheet = staff.get(f"/hub/reports/certificates.xlsx?year={date.today().year}")
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True)
             for c in row]
    assert number in cells and "赵敏" in cells
    assert staff.get(f"/people/{hub.ids['p2']}/certificate.pdf").status_code == 409   # holds no level
