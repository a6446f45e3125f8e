"""The built wheel carries the templates, static files, fixtures and translations, and runs from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                   check=True, timeout=300)
    (built,) = out.glob("fieldsync-*.whl")
    return built


def test_wheel_contains_what_the_app_reads_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("fieldsync/kiosk_templates/kiosk.html", "fieldsync/kiosk_templates/static/kiosk.js",
                   "fieldsync/kiosk_templates/static/fieldsync.css", "fieldsync/data/gazetteer_demo.json",
                   "fieldsync/cli.py"):
        assert needed in names, needed
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_unpacked_wheel_runs_demo_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import fieldsync; print(fieldsync.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(site))
    demo = subprocess.run([sys.executable, "-m", "fieldsync", "--instance", str(tmp_path / "inst"), "demo"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert demo.returncode == 0, demo.stderr
    assert "/kiosk/" in demo.stdout
    code = ("from fieldsync.server import create_app, templates_root; "
            "app = create_app(instance=r'%s'); print(templates_root()); "
            "print(app.test_client().get('/login').status_code)" % (tmp_path / "inst"))
    page = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert page.returncode == 0, page.stderr
    root, status = page.stdout.split()
    assert root.startswith(str(site)) and status == "200"
