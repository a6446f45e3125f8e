"""Write docs/cli.md, the command-line reference, from the commands themselves.

Run `make docs` (or `python -m tools.cli_reference`) after changing a command's
options or help; tests/test_docs.py fails while docs/cli.md is out of date, as
sqlite-utils keeps its CLI reference with cog.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldsync.cli import main
from fieldsync.config import default_instance

OUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
HEADER = """# Command-line reference

Generated from `fieldsync --help` by `make docs` (tools/cli_reference.py): do not edit by
hand. The user guides in docs/guide/ explain when to use each command.
"""


def commands(group: click.Group, path: tuple[str, ...] = ()):
    """(path, command) for every command under the group, depth first, in name order."""
    ctx = click.Context(group, info_name=" ".join(("fieldsync",) + path))
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from commands(command, path + (name,))


def help_text(path: tuple[str, ...], command: click.Command) -> str:
    ctx = click.Context(command, info_name=" ".join(("fieldsync",) + path), terminal_width=100,
                        max_content_width=100)
    return command.get_help(ctx)


def render() -> str:
    parts = [HEADER, f"## fieldsync\n\n```\n{help_text((), main)}\n```\n"]
    for path, command in commands(main):
        parts.append(f"## fieldsync {' '.join(path)}\n\n```\n{help_text(path, command)}\n```\n")
    # The per-user folder differs by machine and user: the reference names it in words.
    return "\n".join(parts).replace(str(default_instance()), "a per-user folder")


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
