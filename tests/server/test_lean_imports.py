"""The serving process stays lean (issue 17: under 100 MB through a day's scans): the spreadsheet
library (~12 MB) is imported when a spreadsheet is read or written, not by serving or pushing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serving_and_pushing_do_not_import_the_spreadsheet_library(node_instance):
    script = ("import sys\nfrom fieldsync.server import create_app\nimport fieldsync.cli, fieldsync.sync.upstream.push\n"
              f"create_app(instance={str(node_instance)!r})\nprint(sorted(m for m in sys.modules if 'openpyxl' in m))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
