"""The documentation keeps up with the program: the CLI reference is generated from the
commands, and every command and report is explained in the README or a user guide."""

from __future__ import annotations

import re
from pathlib import Path

from fieldsync.cli import main
from fieldsync.reports.registry import REPORTS
from tools import cli_reference

ROOT = Path(__file__).resolve().parents[1]


def user_docs() -> str:
    """The README and the guides, with line breaks and indentation as single spaces."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
    return re.sub(r"\s+", " ", "\n".join(f.read_text(encoding="utf-8") for f in files))


def test_the_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == cli_reference.render(), (
        "docs/cli.md is out of date: run `make docs`")


def test_every_command_is_explained_in_the_readme_or_a_guide():
    text = user_docs()
    # `fieldsync nodes add`, also as `fieldsync --instance hub nodes add`
    missing = [" ".join(path) for path, _ in cli_reference.commands(main)
               if not re.search(r"fieldsync (?:--\S+ \S+ )*" + re.escape(" ".join(path)) + r"\b", text)]
    assert not missing, f"commands no guide mentions: {missing}"


def test_every_report_is_explained_in_the_readme_or_a_guide():
    text = user_docs()
    missing = [name for name in REPORTS if not re.search(rf"report {re.escape(name)}\b|`{re.escape(name)}`", text)]
    assert not missing, f"reports no guide mentions: {missing}"
