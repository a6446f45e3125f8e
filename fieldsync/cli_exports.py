"""`fieldsync export`: records out of the system for the provincial instructor system (S12), a thin
wrapper over reports/s12.py registered on the main command group by cli.py (docs/exports.md)."""

from __future__ import annotations

from pathlib import Path

import click

from fieldsync.cli_base import Instance, cli_actor, friendly, pass_instance
from fieldsync.i18n import _


@click.group("export")
def export_group():
    """Records out of the system: the instructor register for the provincial system (S12)."""


@export_group.command("s12")
@click.option("--unit", help="Town, county or city code (default: this laptop's town, the hub's unit).")
@click.option("--changes", "--since-last", "changes", is_flag=True,
              help="Only what changed since the unit's last --changes export, as 注册/修改/注销 rows.")
@click.option("--full", is_flag=True, help="Whole ID and phone numbers (logged); masked otherwise.")
@click.option("--ids-from", "ids_from", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Hub, with --full: an S12 file a laptop exported with whole numbers (repeatable).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@pass_instance
@friendly
def export_s12(instance: Instance, unit: str | None, changes: bool, full: bool, ids_from: tuple[Path, ...],
               output: Path):
    """Write the instructor register for the provincial system (docs/exports.md)."""
    from fieldsync.records import roster_export
    from fieldsync.reports import s12, units
    from fieldsync.sheets import xlsx

    if output.suffix.lower() != ".xlsx":
        raise click.UsageError("S12 is an Excel file: --output FILE.xlsx")
    if ids_from and not full:
        raise click.UsageError("--ids-from brings whole ID numbers: give --full too.")
    roster_export.check_folder(output)
    store, config = instance.store, instance.settings
    done = s12.export(store, units.resolve(store.db, unit or config["TOWN"]), changes=changes, full=full,
                      issuer=config["CERTIFICATE_ISSUER"], id_files=[(p.name, p.read_bytes()) for p in ids_from],
                      actor=cli_actor())
    with output.open("wb") as out:
        out.writelines(xlsx.chunks(done.table))
    click.echo(_("Wrote %(rows)s rows to %(file)s", rows=done.rows, file=output)
               + (_("; %(n)s with whole ID numbers (logged).", n=done.full_numbers) if full
                  else _(" (ID numbers masked)."))
               + (" " + _("%(n)s numbers in the given files fit nobody of this hub.", n=done.unmatched)
                  if done.unmatched else ""))
