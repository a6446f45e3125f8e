"""The forms an installation knows: built-ins, drafts edited at the hub, published versions.

Saving a definition keeps it as the form's draft (a new version number after
the last published one); publishing freezes that version and writes it to
the outbox, so every node pulls it. A published version is never changed.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from fieldsync.errors import Conflict, NotFound
from fieldsync.forms import builtin
from fieldsync.forms import definition as definitions
from fieldsync.i18n import _
from fieldsync.store import Store
from fieldsync.store.clock import utc_now
from fieldsync.store.outbox import record_change

ENTITY = "forms"
COLUMNS = ("id", "version", "title", "definition", "published_at", "hlc", "origin", "saved_at", "saved_by", "ref")


def install_builtins(db: Database) -> None:
    """Put in every shipped built-in version not yet here, as published (no outbox: every install
    has them). Runs from migrations; m002 ran it before the ref column existed, m003 filled it."""
    has_ref = "ref" in db["forms"].columns_dict
    for form in builtin.definitions():
        row = {"id": form["id"], "version": form["version"], "title": form["title"]["zh"],
               "definition": _json(form), "published_at": utc_now(), "origin": "builtin",
               "saved_at": utc_now()}
        if has_ref:
            row["ref"] = record_id(form)
        db["forms"].insert(row, ignore=True)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _row(cursor_row, description) -> dict:
    row = dict(zip([c[0] for c in description], cursor_row))
    row["definition"] = json.loads(row["definition"])
    return row


def find(db: Database, form_id: str, version: int | None = None, *, published: bool = True) -> dict | None:
    """One version (the newest published one when version is None), definition parsed."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM forms WHERE id = ?"
    params: list = [form_id]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    if published:
        sql += " AND published_at IS NOT NULL"
    cursor = db.execute(sql + " ORDER BY version DESC LIMIT 1", params)
    found = cursor.fetchone()
    return _row(found, cursor.description) if found else None


def get(store: Store, form_id: str, version: int | None = None, *, published: bool = True) -> dict:
    form = find(store.db, form_id, version, published=published)
    if form is None:
        which = f"version {version} of form" if version else "published form"
        raise NotFound(_("No %(which)s %(form)r.", which=which, form=form_id), code="form_not_found")
    return form


def listing(store: Store, *, drafts: bool = False) -> list[dict]:
    """Each form once: its newest published version (and draft), with submission counts."""
    rows = store.query(
        "SELECT f.id, MAX(CASE WHEN f.published_at IS NOT NULL THEN f.version END) AS published_version,"
        " MAX(f.version) AS latest_version,"
        " (SELECT COUNT(*) FROM submissions s WHERE s.form_id = f.id) AS submissions"
        " FROM forms f GROUP BY f.id ORDER BY f.id")
    out = []
    for row in rows:
        if row["published_version"] is None and not drafts:
            continue
        shown = row["latest_version"] if drafts else row["published_version"]
        form = find(store.db, row["id"], shown, published=False)
        row.update(title=form["definition"]["title"], has_draft=row["latest_version"] != row["published_version"])
        out.append(row)
    return out


def versions(store: Store, form_id: str) -> list[dict]:
    return store.query("SELECT id, version, title, published_at, origin, saved_at, saved_by FROM forms"
                       " WHERE id = ? ORDER BY version DESC", [form_id])


def save_draft(store: Store, document, *, actor: str | None = None) -> dict:
    """Check a definition and keep it as the form's draft. The version it names is ignored:
    the draft takes the number after the newest published version."""
    form = definitions.load(document)

    def work(db: Database) -> dict:
        latest = find(db, form["id"], published=False)
        if latest and latest["published_at"] is None:
            version = latest["version"]
        else:
            version = latest["version"] + 1 if latest else 1
        stored = {**form, "version": version}
        db["forms"].upsert({"id": form["id"], "version": version, "title": form["title"]["zh"],
                            "definition": _json(stored), "published_at": None, "origin": None,
                            "saved_at": utc_now(), "saved_by": actor, "ref": record_id(stored)},
                           pk=("id", "version"))
        return find(db, form["id"], version, published=False)

    return store.write(work)


def publish(store: Store, form_id: str, *, actor: str | None = None) -> dict:
    """Freeze the draft as a published version and send it to every node with the next pull."""
    def work(db: Database) -> dict:
        draft = find(db, form_id, published=False)
        if draft is None:
            raise NotFound(_("No form %(form)r.", form=form_id), code="form_not_found")
        if draft["published_at"] is not None:
            raise Conflict(_("Version %(version)s of %(form)s is already published; save a changed definition first.",
                             version=draft["version"], form=form_id), code="nothing_to_publish")
        hlc = store.hlc.now()
        db.execute("UPDATE forms SET published_at = ?, hlc = ?, origin = ?, saved_by = COALESCE(saved_by, ?)"
                   " WHERE id = ? AND version = ?",
                   [utc_now(), hlc, store.node_id, actor, form_id, draft["version"]])
        published = find(db, form_id, draft["version"])
        record_change(db, ENTITY, published["ref"], "upsert", hlc,
                      {**published, "definition": _json(published["definition"])})
        return published

    return store.write(work)


def record_id(form: dict) -> str:
    """How sync addresses a version (the `ref` column)."""
    return f"{form['id']}:{form['version']}"
