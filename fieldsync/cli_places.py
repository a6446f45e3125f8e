"""`fieldsync places` and `fieldsync targets`: the association's own place list, populations and
yearly targets (thin wrappers over records/place_import.py, records/populations.py and
reports/targets.py, registered on the main command group by cli.py)."""

from __future__ import annotations

from pathlib import Path

import click

from fieldsync.cli_base import Instance, cli_actor, friendly, pass_instance
from fieldsync.i18n import _, ngettext
from fieldsync.store import clock


@click.group("places")
def places_group():
    """The gazetteer: import the 统计用区划代码 list and populations per year."""


def _print_errors(report) -> None:
    for error in report.errors:
        click.echo(str(error), err=True)
    if not report.ok:
        bad = len({e.row for e in report.errors})
        raise click.ClickException(ngettext("Nothing imported: %(bad)s of %(num)s row has problems (listed above).",
                                            "Nothing imported: %(bad)s of %(num)s rows have problems (listed above).",
                                            report.rows, bad=bad))


@places_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--date", "as_of", type=click.DateTime(["%Y-%m-%d"]),
              help="The day the list's changes took effect (renames, merges); default today.")
@click.option("--dry-run", is_flag=True, help="Check every row and list the problems; import nothing.")
@pass_instance
@friendly
def places_import(instance: Instance, file: Path, as_of, dry_run: bool):
    """Import the place list FILE (.xlsx or .csv): the statistics bureau's layout (统计用区划代码,
    名称, 城乡分类代码) or code/name/level/parent. If any row is bad, nothing is imported."""
    from fieldsync.records import place_import

    report = place_import.import_file(instance.store, file.read_bytes(), file.name, dry_run=dry_run,
                                      as_of=as_of.date() if as_of else None, actor=cli_actor())
    _print_errors(report)
    if dry_run:
        click.echo(ngettext("All %(num)s row is good; nothing written (--dry-run).",
                            "All %(num)s rows are good; nothing written (--dry-run).", report.rows))
        return
    click.echo(_("Imported %(num)s places from %(file)s: %(added)s new, %(renamed)s renamed, %(ended)s ended or "
                 "merged.", num=report.rows, file=file.name, added=len(report.added), renamed=len(report.renamed),
                 ended=len(report.ended)))
    for code, old, new in report.renamed:
        click.echo("  " + _("renamed %(code)s: %(old)s → %(new)s", code=code, old=old, new=new))
    for code, successor in report.ended:
        click.echo("  " + (_("ended %(code)s, merged into %(successor)s", code=code, successor=successor) if successor
                           else _("ended %(code)s", code=code)))


@places_group.command("population")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and list the problems; import nothing.")
@pass_instance
@friendly
def places_population(instance: Instance, file: Path, dry_run: bool):
    """Import residents per place and year from FILE: columns 代码, 年份, 人口."""
    from fieldsync.records import populations

    report = populations.import_file(instance.store, file.read_bytes(), file.name, dry_run=dry_run,
                                     actor=cli_actor())
    _print_errors(report)
    click.echo(ngettext("All %(num)s row is good; nothing written (--dry-run).",
                        "All %(num)s rows are good; nothing written (--dry-run).", report.rows) if dry_run
               else _("Imported %(num)s population figures from %(file)s.", num=report.rows, file=file.name))


@click.group("targets")
def targets_group():
    """Yearly targets per city, county or town."""


@targets_group.command("set")
@click.option("--unit", required=True, help="Code of the city, county or town.")
@click.option("--year", type=int, default=lambda: clock.today().year, help="Year (default: this year).")
@click.option("--instructors-per-1000", "per_1000", type=float, help="Instructors per 1,000 residents.")
@click.option("--trained", type=int, help="People trained in the year.")
@click.option("--monitored", type=int, help="Residents fitness-monitored in the year.")
@click.option("--activities", type=int, help="Mass fitness activities held in the year.")
@pass_instance
@friendly
def targets_set(instance: Instance, unit: str, year: int, **values):
    """Set a unit's targets for a year; the others keep their default."""
    from fieldsync.reports import targets

    given = {figure: value for figure, value in values.items() if value is not None}
    if not given:
        raise click.UsageError(_("Give at least one target, e.g. --trained 200."))
    targets.set_targets(instance.store, unit, year, given, actor=cli_actor())
    _show(instance, unit, year)


@targets_group.command("show")
@click.option("--unit", help="Code of the city, county or town (default: the hub's unit).")
@click.option("--year", type=int, default=lambda: clock.today().year, help="Year (default: this year).")
@pass_instance
@friendly
def targets_show(instance: Instance, unit: str | None, year: int):
    """The targets that apply to a unit in a year, and where each comes from."""
    _show(instance, unit, year)


def _show(instance: Instance, unit: str | None, year: int) -> None:
    from fieldsync.reports import targets, units

    place = units.resolve(instance.store.db, unit, year)
    click.echo(f"{year}年 {place.name}（{place.code}）")
    for applied in targets.applied(instance.store.db, place.code, year).values():
        value = "—" if applied.value is None else f"{applied.value:g}"
        click.echo(f"  {targets.LABELS[applied.figure]}: {value}  {applied.describe()}")
