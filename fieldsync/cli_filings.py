"""`fieldsync filings`: file this hub's 统计表 with its parent, and follow the filings of its
children (reports/filings.py, decision 0150); registered on the main group by cli.py."""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, WholeNumber, cli_actor, friendly, pass_instance
from fieldsync.i18n import N_, _
from fieldsync.store import clock

YEAR = click.option("--year", type=WholeNumber(2000, 2100), help="Year filed (default: this year).")
STATES = {"on_time": N_("filed on time"), "late": N_("filed late"), "missing": N_("missing"),
          "waiting": N_("not filed yet")}
DECISIONS = {"accepted": N_("accepted"), "returned": N_("returned"), "reopened": N_("reopened")}


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
    row = filings.file(instance.store, year or clock.today().year, actor=cli_actor())
    click.echo(_("Filed %(title)s, version %(version)s (%(id)s).", title=row["title"], version=row["version"],
                 id=row["id"]))


@filings_group.command("list")
@YEAR
@pass_instance
@friendly
def filings_list(instance: Instance, year: int | None):
    """This hub's own filings of the year, newest first."""
    from fieldsync.reports import filings

    _hub(instance)
    unit = filings.own_unit(instance.store.db)["code"]
    found = filings.versions(instance.store.db, unit, filings.period_of(year or clock.today().year))
    for row in found:
        click.echo(f"v{row['version']:<4} {row['filed_at']:<26} {row['filed_by'] or '':<12} {row['id']}")
    if not found:
        click.echo(_("Nothing filed for that year yet: %(command)s", command="fieldsync filings file"))
    review = filings.review_of(instance.store.db, unit, filings.period_of(year or clock.today().year))
    if review:
        click.echo(_("The hub above: %(state)s version %(version)s on %(when)s", state=_(DECISIONS[review["state"]]),
                     version=review["version"], when=review["decided_at"])
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
    due = filings.set_deadline(instance.store, year or clock.today().year, due_on, actor=cli_actor())
    click.echo(_("Filings for %(year)s are due by %(due)s.", year=year or clock.today().year, due=due))


@filings_group.command("status")
@YEAR
@pass_instance
@friendly
def filings_status(instance: Instance, year: int | None):
    """Each child hub's filing of the year: on time, late or missing, with its latest version."""
    from fieldsync.reports import filings

    _hub(instance)
    due, found = filings.status(instance.store.db, year or clock.today().year)
    click.echo(_("Deadline: %(due)s", due=due) if due
               else _("Deadline: not set (%(command)s)", command="fieldsync filings deadline"))
    for row in found:
        latest = row["latest"]
        review = row["review"]
        click.echo(f"{row['unit']:<8} {row['name']:<12} {_(STATES[row['state']]):<14} "
                   + (f"v{latest['version']} {latest['filed_at']}" if latest else "")
                   + (f"  {review['state']} v{review['version']}" if review else ""))
    if not found:
        click.echo(_("No child hub is enrolled here."))


def _decide(instance: Instance, unit: str, year: int | None, state: str, reason: str | None = None) -> None:
    from fieldsync.reports import filing_reviews

    _hub(instance)
    row = filing_reviews.decide(instance.store, unit, year or clock.today().year, state, reason=reason,
                                actor=cli_actor())
    click.echo(_("%(unit)s's filing for %(period)s (version %(version)s): %(state)s. The child hub sees it at its"
                 " next sync.", unit=unit, period=row["period"], version=row["version"], state=_(DECISIONS[state])))


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
