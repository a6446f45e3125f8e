"""`make run` and `make test` install into the project's own .venv, never into the Python that runs
make, and install again only when pyproject.toml changed. Read from make's dry run in a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NEWCOMERS_PYTHON = "/opt/newcomer/bin/python3"


@pytest.fixture
def project(tmp_path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("no make here (Windows installs with pip, as the README says)")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def planned(project: Path, target: str) -> list[str]:
    """What `make TARGET` would run, each command a line."""
    done = subprocess.run(["make", "--dry-run", target, f"PYTHON={NEWCOMERS_PYTHON}"], cwd=project,
                          capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("target", ["run", "test"])
def test_make_installs_into_the_project_venv_and_leaves_the_newcomers_python_alone(project, target):
    commands = planned(project, target)
    # The newcomer's Python only makes the venv; pip and everything after run inside it.
    assert [line for line in commands if NEWCOMERS_PYTHON in line] == [
        f"test -x .venv/bin/python || {NEWCOMERS_PYTHON} -m venv .venv"], commands
    installs = [line for line in commands if "pip install" in line]
    assert installs and all(line.startswith(".venv/bin/python -m pip install") for line in installs), installs


def test_make_test_installs_again_only_when_pyproject_changed(project):
    stamp = project / ".venv" / "installed"
    stamp.parent.mkdir()
    stamp.touch()
    later = (project / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (later, later))
    assert not [line for line in planned(project, "test") if "pip install" in line]
    os.utime(project / "pyproject.toml", (later + 10, later + 10))
    assert [line for line in planned(project, "test") if "pip install" in line]
