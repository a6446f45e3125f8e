"""One error catalogue (issue 16, decision 0115): every code raised anywhere in fieldsync/ is in
fieldsync.errors.CATALOGUE, answers with the one status the catalogue gives it, has a Chinese
message, and is documented in the OpenAPI document."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from fieldsync import errors
from tests.server.test_i18n import catalogue

SOURCE = Path(__file__).resolve().parents[1] / "fieldsync"
ERROR_CLASSES = {name: cls for name, cls in vars(errors).items()
                 if isinstance(cls, type) and issubclass(cls, errors.FieldsyncError)}
RELAYED = {("sync/upstream/client.py", "HubError")}   # the hub's own code, passed on as the hub sent it
WERKZEUG = ("server/errors.py", "FieldsyncError")  # a code from HTTP_CODES, checked on its own below


def raise_sites() -> list[tuple[str, int, str, str | None]]:
    """(file, line, error class, code or None for the class's own) of every error made in fieldsync/;
    a code given as a module constant (policy.NOT_YOUR_TOWN) is read from its assignment."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) for target in node.targets
                     if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ERROR_CLASSES:
                continue
            code = next((kw.value for kw in node.keywords if kw.arg == "code"), None)
            if isinstance(code, ast.Constant):
                code = code.value
            elif isinstance(code, ast.Name) and code.id in constants:
                code = constants[code.id]
            elif isinstance(code, ast.Name) and isinstance(_imported(path, code.id), str):
                code = _imported(path, code.id)   # a constant taken from another module
            elif code is not None:
                code = f"<{ast.unparse(code)}>"
            found.append((str(path.relative_to(SOURCE)), node.lineno, name, code))
    return found


def _imported(path: Path, name: str):
    module = ".".join(("fieldsync", *path.relative_to(SOURCE).with_suffix("").parts))
    return getattr(importlib.import_module(module), name, None)


def test_the_scan_finds_the_raise_sites():
    sites = raise_sites()
    assert len(sites) > 100
    assert ("records/users.py", "Conflict", "last_admin") in {(f, c, code) for f, _, c, code in sites}
    assert any(code == "not_your_town" for *_, code in sites)   # read through policy's constant


def test_every_raised_code_is_in_the_catalogue_with_the_status_its_class_names():
    unknown, disagree = [], []
    for file, line, name, code in raise_sites():
        if (file, name) in RELAYED or ((file, name) == WERKZEUG and code == "<code>"):
            continue
        cls = ERROR_CLASSES[name]
        code = code or cls.code
        if code not in errors.CATALOGUE:
            unknown.append(f"{file}:{line} {name}(code={code})")
        elif cls is not errors.FieldsyncError and errors.CATALOGUE[code].status != errors.CATALOGUE[cls.code].status:
            disagree.append(f"{file}:{line} {name} is {errors.CATALOGUE[cls.code].status}, "
                            f"{code} is {errors.CATALOGUE[code].status}")
    assert not unknown, "add these codes to fieldsync/errors.py CATALOGUE:\n" + "\n".join(unknown)
    assert not disagree, "raise these with the class of their status:\n" + "\n".join(disagree)


def test_werkzeugs_refusals_answer_with_catalogue_codes_of_their_own_status():
    from fieldsync.server.errors import HTTP_CODES

    assert HTTP_CODES and all(errors.CATALOGUE[code].status == status for status, code in HTTP_CODES.items())


def test_codes_that_answered_with_two_statuses_now_have_one():
    status = {code: entry.status for code, entry in errors.CATALOGUE.items()}
    assert (status["bad_encoding"], status["unsupported_encoding"]) == (400, 415)
    assert (status["node_revoked"], status["revoked_node_bundle"]) == (401, 403)
    assert (status["form_not_found"], status["no_file"], status["bad_answers"]) == (404, 422, 422)
    assert "station_scope" not in status   # folded into station_session_forbidden (decision 0066)


def test_every_code_has_a_chinese_message():
    zh = catalogue("zh")
    missing = [code for code, entry in errors.CATALOGUE.items()
               if not (zh.get(entry.message) and zh.get(entry.message).string)]
    assert not missing


def test_error_classes_live_in_errors_py():
    outside = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", None)) in ERROR_CLASSES for base in node.bases):
                outside.append(f"{path.relative_to(SOURCE)}:{node.lineno} {node.name}")
    assert [entry for entry in outside if not entry.startswith("errors.py:")] == []


def test_the_openapi_document_lists_every_code_with_its_status(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    listed = document["components"]["x-error-codes"]
    assert {code: entry["status"] for code, entry in listed.items()} == \
        {code: entry.status for code, entry in errors.CATALOGUE.items()}
    raised = {code or ERROR_CLASSES[name].code for file, _, name, code in raise_sites()
              if (file, name) not in RELAYED and code != "<code>"}
    assert raised <= set(document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
