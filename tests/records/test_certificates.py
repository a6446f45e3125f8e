"""Certificates: numbers by the configured rule, once; unique holders; the PDF; the register."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fieldsync.errors import Conflict
from fieldsync.forms import submissions
from fieldsync.records import certificates, people, roster_io, sessions
from fieldsync.reports import registry
from fieldsync.store import clock, new_id
from tests.support import run_cli

RULE = certificates.Rule("威体指{year}{seq:05d}", "威海市社会体育指导员协会")
TOWN = "371002100000"


def _pdf_text(path_or_bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "out.pdf"
    if isinstance(path_or_bytes, bytes):
        path.write_bytes(path_or_bytes)
    else:
        path = path_or_bytes
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _trainees_who_passed(store, count: int = 2) -> tuple[dict, list[dict]]:
    training = next(s for s in sessions.listing(store) if s["kind"] == "training")
    trainees = [p for p in people.search(store, limit=500) if p["level"] == "none"][:count]
    for number, trainee in enumerate(trainees, start=1):
        submissions.submit(store, "training_assessment", training["id"], trainee["id"],
                           {"result": "pass", "certificate_no": f"SD25-07{number:02d}"}, new_id())
    return training, trainees


def test_a_trainings_certificates_and_a_number_by_the_rule_given_once(store, tmp_path):
    training, trainees = _trainees_who_passed(store)
    assert sorted(certificates.passed_trainees(store, training["id"])) == sorted(t["id"] for t in trainees)
    text = _pdf_text(certificates.print_pdf(store, certificates.passed_trainees(store, training["id"]), RULE),
                     tmp_path)
    assert all(t["name"] in text for t in trainees) and "SD25-0701" in text and "SD25-0702" in text
    assert "三级社会体育指导员等级证书" in text and "威海市社会体育指导员协会" in text
    # Promoted without a number (at the hub, say): the first print gives one by the rule, a reprint the same.
    promoted = next(p for p in people.search(store, limit=500) if p["level"] == "none")
    people.promote(store, promoted["id"], "level3")
    year = clock.today().year
    for _ in range(2):
        text = _pdf_text(certificates.print_pdf(store, [promoted["id"]], RULE), tmp_path)
        assert people.get(store, promoted["id"])["certificate_no"] == f"威体指{year}00001"
        assert promoted["name"] in text and f"威体指{year}00001" in text
    register = {row["certificate_no"]: row for row in certificates.register(store.db, year=year)}
    assert register[f"威体指{year}00001"]["name"] == promoted["name"]
    name, chunks = registry.prepare(store.db, "certificates", "csv", {"year": str(year)})
    sheet = b"".join(chunks).decode("utf-8-sig")
    assert name == f"certificates-{year}.csv" and f"威体指{year}00001" in sheet and promoted["name"] in sheet


def test_the_cli_prints_a_trainings_certificates(node_instance, store, tmp_path):
    training, trainees = _trainees_who_passed(store, 1)
    store.close()
    output = tmp_path / "certs.pdf"
    done = run_cli(node_instance, "certificates", "print", "--session", training["id"], "--output", str(output))
    assert "1 certificate written" in done.stdout
    assert trainees[0]["name"] in _pdf_text(output, tmp_path)
    nobody = run_cli(node_instance, "certificates", "print", "--person", "nobody", "--output", str(output),
                     check=False)
    assert nobody.returncode == 1 and "Traceback" not in nobody.stderr


def test_a_certificate_number_has_one_holder_on_register_modify_and_import(store, chinese):
    first = people.register(store, {"name": "张三", "town": TOWN, "certificate_no": "SD-9-001", "level": "level3"})
    with pytest.raises(Conflict) as caught:
        people.register(store, {"name": "李四", "town": TOWN, "certificate_no": "SD-9-001"})
    assert "证书编号 SD-9-001 已属于 张三（张村镇）" in caught.value.message
    other = people.register(store, {"name": "李四", "town": TOWN})
    with pytest.raises(Conflict):
        people.modify(store, other["id"], {"certificate_no": "SD-9-001"})
    people.modify(store, first["id"], {"certificate_no": "SD-9-001", "specialty": "太极拳"})   # their own
    content = ("姓名,乡镇,等级,证书编号\n王五,张村镇,三级,SD-9-001\n赵六,张村镇,三级,SD-9-002\n"
               "钱七,张村镇,三级,SD-9-002\n").encode()
    report = roster_io.import_roster(store, content, "r.csv", dry_run=True)
    assert [str(e) for e in report.errors] == ["第2行 证书编号: 证书编号 SD-9-001 已属于 张三（张村镇）",
                                               "第4行 证书编号: 证书编号 SD-9-002 已属于 第3行"]


def test_verification_marks_who_and_when_and_counts_per_town(store):
    before = {row["town"]: row for row in people.verification_progress(store)}
    person = people.search(store, limit=1)[0]
    verified = people.verify(store, person["id"], actor="staff")
    assert verified["verified_by"] == "staff" and verified["verified_at"]
    assert people.history(store, person["id"])[-1]["action"] == "verify"
    after = {row["town"]: row for row in people.verification_progress(store)}
    assert after[person["town"]]["verified"] == before[person["town"]]["verified"] + 1
    assert after[person["town"]]["total"] == before[person["town"]]["total"]
    assert store.query_one("SELECT COUNT(*) AS n FROM changes WHERE entity = 'people' AND record_id = ?"
                           " AND payload LIKE '%verified_by%'", [person["id"]])["n"] == 1
