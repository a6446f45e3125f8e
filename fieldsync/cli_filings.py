"""`fieldsync filings`: file this hub's 统计表 with its parent, and follow the filings of its
children (reports/filings.py, decision 0150); registered on the main group by cli.py."""

from __future__ import annotations

from datetime import date

import click

from fieldsync.cli import Instance, WholeNumber, cli_actor, friendly, pass_instance

YEAR = click.option("--year", type=WholeNumber(2000, 2100), help="Year filed (default: this year).")
STATES = {"on_time": "filed on time", "late": "filed late", "missing": "missing", "waiting": "not filed yet"}


def _hub(instance: Instance) -> None:
    if instance.settings["MODE"] != "hub":
        raise click.ClickException("Filings are made on a hub: the 统计表 is its unit's.")


@click.group("filings")
def filings_group():
    """File the 统计表 upward (报送) and follow the children's filings."""


@filings_group.command("file")
@YEAR
@pass_instance
@friendly
def filings_file(instance: Instance, year: int | None):
    """File this hub's 统计表 for the year; its next sync takes it to the parent hub."""
    from fieldsync.reports import filings

    _hub(instance)
    row = filings.file(instance.store, year or date.today().year, actor=cli_actor())
    click.echo(f"Filed {row['title']}, version {row['version']} ({row['id']}).")


@filings_group.command("list")
@YEAR
@pass_instance
@friendly
def filings_list(instance: Instance, year: int | None):
    """This hub's own filings of the year, newest first."""
    from fieldsync.reports import filings

    _hub(instance)
    unit = filings.own_unit(instance.store.db)["code"]
    found = filings.versions(instance.store.db, unit, filings.period_of(year or date.today().year))
    for row in found:
        click.echo(f"v{row['version']:<4} {row['filed_at']:<26} {row['filed_by'] or '':<12} {row['id']}")
    if not found:
        click.echo("Nothing filed for that year yet: fieldsync filings file")
    review = filings.review_of(instance.store.db, unit, filings.period_of(year or date.today().year))
    if review:
        click.echo(f"The hub above: {review['state']} version {review['version']} on {review['decided_at']}"
                   + (f": {review['reason']}" if review["reason"] else ""))


@filings_group.command("deadline")
@click.argument("due_on")
@YEAR
@pass_instance
@friendly
def filings_deadline(instance: Instance, due_on: str, year: int | None):
    """Set the last day (YYYY-MM-DD) the children's filings of the year count as on time."""
    from fieldsync.reports import filings

    _hub(instance)
    due = filings.set_deadline(instance.store, year or date.today().year, due_on, actor=cli_actor())
    click.echo(f"Filings for {year or date.today().year} are due by {due}.")


@filings_group.command("status")
@YEAR
@pass_instance
@friendly
def filings_status(instance: Instance, year: int | None):
    """Each child hub's filing of the year: on time, late or missing, with its latest version."""
    from fieldsync.reports import filings

    _hub(instance)
    due, found = filings.status(instance.store.db, year or date.today().year)
    click.echo(f"Deadline: {due or 'not set (fieldsync filings deadline)'}")
    for row in found:
        latest = row["latest"]
        review = row["review"]
        click.echo(f"{row['unit']:<8} {row['name']:<12} {STATES[row['state']]:<14} "
                   + (f"v{latest['version']} {latest['filed_at']}" if latest else "")
                   + (f"  {review['state']} v{review['version']}" if review else ""))
    if not found:
        click.echo("No child hub is enrolled here.")


def _decide(instance: Instance, unit: str, year: int | None, state: str, reason: str | None = None) -> None:
    from fieldsync.reports import filing_reviews

    _hub(instance)
    row = filing_reviews.decide(instance.store, unit, year or date.today().year, state, reason=reason,
                                actor=cli_actor())
    click.echo(f"{unit}'s filing for {row['period']} (version {row['version']}): {state}. "
               "The child hub sees it at its next sync.")


@filings_group.command("accept")
@click.argument("unit")
@YEAR
@pass_instance
@friendly
def filings_accept(instance: Instance, unit: str, year: int | None):
    """Accept the child UNIT's latest filing of the year; its activities of the year are then locked."""
    _decide(instance, unit, year, "accepted")


@filings_group.command("return")
@click.argument("unit")
@click.option("--reason", required=True, help="Why the filing goes back (the child sees it).")
@YEAR
@pass_instance
@friendly
def filings_return(instance: Instance, unit: str, reason: str, year: int | None):
    """Return the child UNIT's latest filing of the year with a reason, to be corrected and filed again."""
    _decide(instance, unit, year, "returned", reason)


@filings_group.command("reopen")
@click.argument("unit")
@YEAR
@pass_instance
@friendly
def filings_reopen(instance: Instance, unit: str, year: int | None):
    """Reopen an accepted year of the child UNIT: its activities may be edited again."""
    _decide(instance, unit, year, "reopened")
