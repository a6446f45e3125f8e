"""What every `fieldsync` command module shares: the instance folder it opens, the one-line
error, the whole-number option type and who a command acts as.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import click

from fieldsync import config as settings
from fieldsync.errors import FieldsyncError
from fieldsync.i18n import _
from fieldsync.records.validators import whole_number


class Instance:
    """The instance folder chosen for this command, opened on first use."""

    def __init__(self, path: Path):
        self.path = path
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from fieldsync.parts import open_store

            self._store = open_store(self.path / "fieldsync.db")
        return self._store

    @property
    def settings(self) -> dict:
        return settings.load(self.path)

    def close(self):
        if self._store is not None:
            self._store.close()


pass_instance = click.make_pass_decorator(Instance)


def friendly(command):
    """Print domain errors as one line and exit 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except FieldsyncError as exc:
            detail = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                               for k, v in exc.fields.items()) if exc.fields else ""
            raise click.ClickException(exc.message + (f" ({detail})" if detail and detail not in exc.message else ""))
    return wrapper


class WholeNumber(click.ParamType):
    """An integer option within bounds, in ASCII digits (click's INT, like int(), takes '٣')."""

    name = "integer"

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def convert(self, value, param, ctx) -> int:
        try:
            number = value if isinstance(value, int) else whole_number(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if not self.low <= number <= self.high:
            self.fail(_("%(number)s is not between %(low)s and %(high)s.", number=number, low=self.low,
                        high=self.high), param, ctx)
        return number


def cli_actor() -> str:
    """Who a command acts as in the history: the operating-system account."""
    return "cli:" + (os.environ.get("USER") or os.environ.get("USERNAME") or "unknown")
