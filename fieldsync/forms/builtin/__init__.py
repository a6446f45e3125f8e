"""The forms every installation starts with, one JSON definition per file."""

from __future__ import annotations

import json
from importlib import resources

from fieldsync.forms import definition


def definitions() -> list[dict]:
    """Every built-in form, checked and normalised, in file-name order."""
    files = sorted(p for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))
    return [definition.load(json.loads(p.read_text("utf-8"))) for p in files]
