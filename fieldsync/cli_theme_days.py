"""`fieldsync theme-days`: the association's theme days of a year (records/theme_days.py),
registered on the main command group by cli.py. The hub publishes them to its laptops."""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, WholeNumber, cli_actor, friendly, pass_instance
from fieldsync.i18n import _
from fieldsync.store import clock


@click.group("theme-days")
def theme_days_group():
    """Theme days (主题日) of a year: list them, add the default list, add or remove one."""


def _year(year: int | None) -> int:
    return year or clock.today().year


def _on_the_hub(instance: Instance) -> None:
    if instance.settings["MODE"] != "hub":
        raise click.ClickException("Theme days are edited on the hub; a laptop takes the hub's list when it syncs.")


@theme_days_group.command("list")
@click.option("--year", type=WholeNumber(2000, 2100), help="Year (default: this year).")
@pass_instance
@friendly
def theme_days_list(instance: Instance, year: int | None):
    """The year's theme days: id, dates, name (an activity is tagged with the id)."""
    from fieldsync.records import theme_days

    found = theme_days.for_year(instance.store.db, _year(year))
    for day in found:
        span = day["starts_on"] if day["ends_on"] == day["starts_on"] else f"{day['starts_on']}–{day['ends_on']}"
        click.echo(f"{day['id']:<28} {span:<22} {day['name']}")
    if not found:
        click.echo(_("No theme days for %(year)s; add the default list with: %(command)s", year=_year(year),
                     command="fieldsync theme-days seed"))


@theme_days_group.command("seed")
@click.option("--year", type=WholeNumber(2000, 2100), help="Year (default: this year).")
@pass_instance
@friendly
def theme_days_seed(instance: Instance, year: int | None):
    """Give a year without theme days the default list (劳动节, 全民健身月, 6月10日, 全民健身日, 国庆节, 国际志愿者日)."""
    from fieldsync.records import theme_days

    added = theme_days.seed(instance.store, _year(year), actor=cli_actor(),
                            publish=instance.settings["MODE"] == "hub")
    click.echo(_("Added %(n)s theme days for %(year)s.", n=added, year=_year(year)) if added
               else _("%(year)s already has its theme days; nothing added.", year=_year(year)))


@theme_days_group.command("add")
@click.argument("name")
@click.argument("first_day")
@click.argument("last_day", required=False)
@pass_instance
@friendly
def theme_days_add(instance: Instance, name: str, first_day: str, last_day: str | None):
    """Add the theme day NAME from FIRST_DAY (YYYY-MM-DD) to LAST_DAY (default: the same day)."""
    from fieldsync.records import theme_days

    _on_the_hub(instance)
    day = theme_days.save(instance.store, {"name": name, "starts_on": first_day, "ends_on": last_day},
                          actor=cli_actor())
    click.echo(_("Added %(name)s (%(id)s).", name=day["name"], id=day["id"]))


@theme_days_group.command("remove")
@click.argument("theme_day_id")
@pass_instance
@friendly
def theme_days_remove(instance: Instance, theme_day_id: str):
    """Remove a theme day no activity is tagged with."""
    from fieldsync.records import theme_days

    _on_the_hub(instance)
    theme_days.delete(instance.store, theme_day_id, actor=cli_actor())
    click.echo(_("Removed %(id)s.", id=theme_day_id))
