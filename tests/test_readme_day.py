"""The README's whole day, run as its code block says: the hub's demo and the town's demo tell one
story, so after the sync and the USB bundle each person, session and check-in is there once.

The commands come from README.md itself, so the test breaks when the README changes. The town's
`serve --tls` (a server for phones) is left out: the sync runs from the command line beside it.
"""

from __future__ import annotations

import re
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

from fieldsync import demo
from tests.support import LiveServer, run_cli

README = Path(__file__).parent.parent / "README.md"
TOWN = demo.DEMO_TOWN


def readme_day() -> list[tuple[list[str], str]]:
    """(arguments, comment) of each `fieldsync` line in the whole-day code block."""
    section = README.read_text(encoding="utf-8").split("## A whole day, from the command line", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [(shlex.split(line, comments=True), line.partition(" # ")[2].strip())
            for line in block.splitlines() if line.startswith("fieldsync ")]


def counted(instance: Path) -> dict:
    """Every person, session and check-in, and the town's by id."""
    with closing(sqlite3.connect(instance / "fieldsync.db")) as db:
        def ids(sql: str) -> list[str]:
            return sorted(row[0] for row in db.execute(sql, [TOWN]))

        return {
            "people": db.execute("SELECT COUNT(*) FROM people").fetchone()[0],
            "sessions": db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0],
            "checkins": db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0],
            "town people": ids("SELECT id FROM people WHERE town = ?"),
            "town sessions": ids("SELECT id FROM sessions WHERE town = ?"),
            "town checkins": ids("SELECT c.id FROM checkins c JOIN sessions s ON s.id = c.session_id"
                                 " WHERE s.town = ?"),
            # the same person under two ids: the hub's demo has one on purpose, for its duplicates page
            "twice": db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM people GROUP BY name, phone"
                                " HAVING COUNT(*) > 1)").fetchone()[0],
            "conflicts": db.execute("SELECT COUNT(*) FROM conflicts").fetchone()[0]
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'conflicts'").fetchone() else 0,
        }


def loaded(output: str) -> dict:
    """The counts a demo says it loaded: '…: 11 towns, 770 people, 101 sessions, 3277 check-ins…'."""
    return {name: int(number) for number, name in re.findall(r"(\d+) (people|sessions|check-ins)", output)}


def assert_once_each(root: Path, said: dict) -> None:
    hub, town = counted(root / "hub"), counted(root / "town")
    assert town["people"] == len(town["town people"]) == said["town"]["people"]
    assert town["sessions"] == said["town"]["sessions"]
    assert (hub["people"], hub["sessions"], hub["checkins"]) == (
        said["hub"]["people"], said["hub"]["sessions"], said["hub"]["check-ins"])
    for name in ("town people", "town sessions", "town checkins"):
        assert hub[name] == town[name], name
    assert (town["twice"], hub["twice"], hub["conflicts"]) == (0, 1, 0)


def test_the_readme_day_leaves_each_person_session_and_checkin_once(tmp_path):
    hub_server, hub_url, code, said, synced = None, None, None, {}, False
    try:
        for args, comment in readme_day():
            assert args[:2] == ["fieldsync", "--instance"], args
            instance, command = tmp_path / args[2], args[3:]
            if command[0] == "serve":
                if "--hub" in command:   # `… serve --hub --port 8090 &`: in the background
                    hub_url = f"http://127.0.0.1:{command[command.index('--port') + 1]}/"
                    hub_server = LiveServer(instance, hub=True).start()
                continue
            command = [_local(arg, tmp_path, hub_url, hub_server, code) for arg in command]
            out = run_cli(instance, *command).stdout
            if command[0] == "demo":
                said[args[2]] = loaded(out)
            elif command[:2] == ["nodes", "add"]:
                code = re.search(r"Enrollment code: (\S+)", out).group(1)
            elif command[0] == "sync":
                shape = re.sub(r"\d+", r"\\d+", re.escape(comment))
                assert re.fullmatch(shape, out.strip().splitlines()[-1]), (comment, out)
                assert_once_each(tmp_path, said)
                synced = True
            elif command[:2] == ["bundle", "import"]:
                assert_once_each(tmp_path, said)
        assert synced and code and set(said) == {"hub", "town"}
    finally:
        if hub_server:
            hub_server.stop()


def _local(arg: str, root: Path, hub_url: str | None, hub_server: LiveServer | None, code: str | None) -> str:
    """The README's hub address, enrollment code and files, as this test has them."""
    if hub_url and arg == hub_url:
        return hub_server.url + "/"
    if arg == "XXXX-XXXX-XXXX-XXXX":
        return code
    if arg.startswith("/") or arg.endswith(".xlsx"):
        return str(root / Path(arg).name)
    return arg
