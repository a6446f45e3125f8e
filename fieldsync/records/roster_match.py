"""The association's own instructor database (its Excel, or an export of the provincial system),
imported at the hub: each row is matched with the person already on the roster instead of being
added twice.

The rows go through the roster import's checks (records/roster_io.py), then each is matched: by
ID number (its hash), else by name, mobile and a birth year that does not differ. A plan says
what is new, what matched and is the same, what matched and fills empty fields (changed), and
what matched but disagrees (a different level or mobile: a conflict, left for a person to settle).
Nothing is written until the importer has seen the plan: `commit` writes exactly the plan whose
digest the preview showed, or refuses when the file or the roster has changed since.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.i18n import _, ngettext
from fieldsync.records import people, roster_io
from fieldsync.records.roster_io import LABELS, RowError
from fieldsync.records.schemas import LEVELS
from fieldsync.store import Store

# Taken from the file when the roster has nothing there; compared when both have one.
FILLED = ("gender", "birth_year", "phone", "id_number", "village", "specialty", "certificate_no", "registered_at")
DISAGREE = ("level", "phone")


@dataclass
class Plan:
    rows: int
    digest: str = ""
    errors: list[RowError] = field(default_factory=list)
    new: list[tuple[int, dict]] = field(default_factory=list)                  # (row, person)
    matched: list[tuple[int, dict]] = field(default_factory=list)              # (row, roster person)
    changed: list[tuple[int, dict, dict]] = field(default_factory=list)        # (row, roster person, fields)
    conflicts: list[tuple[int, dict, dict]] = field(default_factory=list)      # (row, person, {f: (roster, file)})
    written: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> list[tuple[str, int, list[int]]]:
        """(what, how many, row numbers) for the preview table."""
        return [(kind, len(items), [item[0] for item in items]) for kind, items in
                (("new", self.new), ("matched", self.matched), ("changed", self.changed),
                 ("conflicts", self.conflicts))] + [("errors", len(self.errors), sorted({e.row for e in self.errors}))]


def plan(store: Store, content: bytes, filename: str = "", *, default_town: str | None = None) -> Plan:
    """Check and match every row; write nothing."""
    report, valid, checker = roster_io.check_file(store, content, filename, default_town=default_town,
                                                  against_roster=False)
    result = Plan(rows=report.rows, errors=list(report.errors))
    index = _Index(store.db)
    for row, person in valid:
        found = index.find(checker.duplicates.id_hash(person), person)
        taken = checker.duplicates.certificate(row, person.get("certificate_no"), found and found["id"])
        if taken:
            result.errors.append(taken)
        elif found is None:
            result.new.append((row, person))
        else:
            _compare(result, row, found, person)
    result.digest = _digest(content, result)
    return result


def _compare(result: Plan, row: int, found: dict, person: dict) -> None:
    differ = {name: (found[name], person[name]) for name in DISAGREE
              if found.get(name) and person.get(name) not in (None, "", "none") and found[name] != person[name]}
    fills = {name: person[name] for name in FILLED
             if person.get(name) not in (None, "") and found.get(_stored(name)) in (None, "")}
    if differ:
        result.conflicts.append((row, found, differ))
    elif fills:
        result.changed.append((row, found, fills))
    else:
        result.matched.append((row, found))


def _stored(name: str) -> str:
    return "id_number_hash" if name == "id_number" else name


class _Index:
    """The roster's people by ID hash and by (name, mobile)."""

    def __init__(self, db: Database):
        self.by_hash: dict[str, dict] = {}
        self.by_name_phone: dict[tuple[str, str], list[dict]] = {}
        for person in db.query("SELECT * FROM people WHERE status = 'active' ORDER BY registered_at, id"):
            if person["id_number_hash"]:
                self.by_hash.setdefault(person["id_number_hash"], person)
            if person["phone"]:
                self.by_name_phone.setdefault((person["name"], person["phone"]), []).append(person)

    def find(self, id_hash: str | None, person: dict) -> dict | None:
        if id_hash and id_hash in self.by_hash:
            return self.by_hash[id_hash]
        for known in self.by_name_phone.get((person["name"], person.get("phone")), []):
            if id_hash and known["id_number_hash"]:
                continue  # both have ID numbers, and they differ: two people
            if not (known["birth_year"] and person.get("birth_year")) or known["birth_year"] == person["birth_year"]:
                return known
        return None


def _digest(content: bytes, result: Plan) -> str:
    """The file and what the plan would write: a preview confirms exactly this."""
    decided = {"new": [row for row, _ in result.new],
               "changed": [(row, found["id"], sorted(fills)) for row, found, fills in result.changed],
               "matched": [(row, found["id"]) for row, found in result.matched],
               "conflicts": [(row, found["id"]) for row, found, _ in result.conflicts]}
    text = json.dumps(decided, sort_keys=True, default=str)
    return hashlib.sha256(hashlib.sha256(content).digest() + text.encode()).hexdigest()[:32]


def commit(store: Store, content: bytes, filename: str, digest: str, *, actor: str | None = None,
           default_town: str | None = None) -> Plan:
    """Write the plan previewed under digest: the new people and the filled fields, in one
    transaction. Conflicts are left as they are. Refused if anything has changed since."""
    result = plan(store, content, filename, default_town=default_town)
    if result.digest != digest:
        raise Conflict(code="preview_outdated")
    if not result.ok:
        raise Conflict(ngettext("%(num)s row has problems; fix it and preview again.",
                                 "%(num)s rows have problems; fix them and preview again.", len(result.errors)),
                       code="import_has_errors")

    def work(db: Database) -> int:
        written = len(people.register_many(store, [person for _row, person in result.new], actor=actor))
        for _row, found, fills in result.changed:
            people.modify(store, found["id"], fills, actor=actor)
            written += 1
        return written

    result.written = store.write(work)
    return result


def describe(item: dict) -> str:
    """A conflict's fields in the office's words: 等级 三级 ≠ 二级 (the roster's, then the file's)."""
    return "; ".join(f"{LABELS.get(name, name)} {LEVELS.get(roster, roster)} ≠ {LEVELS.get(given, given)}"
                     for name, (roster, given) in item.items())


# -- the file between preview and confirmation ---------------------------------------------
PENDING = "pending_imports"


def keep(instance: Path, content: bytes, filename: str, digest: str) -> None:
    """Hold the previewed file until it is confirmed (the confirmation names only its digest)."""
    folder = Path(instance) / PENDING
    folder.mkdir(mode=0o700, exist_ok=True)
    for old in folder.iterdir():
        if old.stat().st_mtime < time.time() - 86400:
            old.unlink(missing_ok=True)
    (folder / f"{digest}.json").write_text(json.dumps({"filename": filename}), "utf-8")
    (folder / f"{digest}.bin").write_bytes(content)


def kept(instance: Path, digest: str) -> tuple[bytes, str]:
    folder = Path(instance) / PENDING
    if not re.fullmatch(r"[0-9a-f]{32}", digest or "") or not (folder / f"{digest}.bin").exists():
        raise NotFound(_("That preview is gone (older than a day, or already imported); upload the file again."),
                       code="preview_not_found")
    meta = json.loads((folder / f"{digest}.json").read_text("utf-8"))
    return (folder / f"{digest}.bin").read_bytes(), meta["filename"]


def forget(instance: Path, digest: str) -> None:
    for suffix in (".bin", ".json"):
        (Path(instance) / PENDING / f"{digest}{suffix}").unlink(missing_ok=True)
