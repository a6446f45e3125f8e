"""`fieldsync hub`: what is done to a hub instance as a whole; `hub migrate-to URL` moves a stopped
hub's data from its SQLite file to PostgreSQL (hub_move.py), registered on the main group by cli.py."""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, friendly, pass_instance
from fieldsync.i18n import _


@click.group("hub")
def hub_group():
    """A hub instance as a whole: where it keeps its data."""


@hub_group.command("migrate-to")
@click.argument("url", metavar="URL")
@pass_instance
@friendly
def migrate_to(instance: Instance, url: str):
    """Move this stopped hub's data into the empty PostgreSQL database at URL (postgresql://user@host/name),
    check the copy, and use it from the next start; the SQLite file stays as the way back."""
    from fieldsync import hub_move
    from fieldsync.store import pg

    moved = hub_move.move(instance.path, url, progress=lambda table, rows: click.echo(
        _("  %(table)s: %(rows)s rows", table=table, rows=rows)))
    click.echo(_("Copied %(rows)s rows in %(tables)s tables into %(url)s and checked row counts, sequence counters, "
                 "sync state and every report figure; the file was locked meanwhile, so nothing changed in it.",
                 rows=sum(moved.copied.values()), tables=len(moved.copied), url=pg.without_password(url)))
    if moved.differences:
        for line in moved.differences:
            click.echo("  " + line, err=True)
        raise click.ClickException(_("The copy differs from the file in %(count)s ways (above): config.toml is "
                                     "unchanged and the hub still uses %(path)s. The copy stays in the PostgreSQL "
                                     "database; empty it before trying again.", count=len(moved.differences),
                                     path=moved.database_file))
    click.echo(_("The copy is the same. config.toml now says database = %(url)s; start the hub as before.",
                 url=pg.without_password(url)))
    click.echo(_("The SQLite file %(path)s is left untouched: to go back, stop the hub and remove the database "
                 "line from config.toml.", path=moved.database_file))
