"""`fieldsync people`, `badges` and `certificates`: the roster in and out, its badge sheets and
training certificates; thin wrappers over records/, registered on the main group by cli.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from fieldsync.cli_base import Instance, cli_actor, friendly, pass_instance
from fieldsync.i18n import _, ngettext


@click.group("people")
def people_group():
    """The roster: import and export CSV or XLSX with Chinese headers."""


@people_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and list the problems (on a hub: what is new, "
                                              "matched, changed or in conflict); import nothing.")
@click.option("--town", help="12-digit code of the town for rows without one (default: this node's town).")
@pass_instance
@friendly
def people_import(instance: Instance, file: Path, dry_run: bool, town: str | None):
    """Import people from FILE (.xlsx or .csv). If any row is bad, nothing is imported.

    On a hub, rows are matched with the people already on the roster (ID number, else name, mobile
    and birth year) instead of being added twice."""
    from fieldsync.records import roster_io

    if instance.settings["MODE"] == "hub":
        return _match_import(instance, file, dry_run, town)
    report = roster_io.import_roster(instance.store, file.read_bytes(), file.name, actor=cli_actor(),
                                     dry_run=dry_run, default_town=town or instance.settings["TOWN"])
    for error in report.errors:
        click.echo(str(error), err=True)
    if not report.ok:
        raise click.ClickException(ngettext("Nothing imported: %(bad)s of %(num)s row has problems (listed above).",
                                            "Nothing imported: %(bad)s of %(num)s rows have problems (listed above).",
                                            report.rows, bad=len(report.bad_rows)))
    click.echo(ngettext("All %(num)s row is good; nothing written (--dry-run).",
                        "All %(num)s rows are good; nothing written (--dry-run).", report.rows) if dry_run
               else ngettext("Imported %(num)s person from %(file)s.", "Imported %(num)s people from %(file)s.",
                             len(report.imported), file=file.name))


def _match_import(instance: Instance, file: Path, dry_run: bool, town: str | None) -> None:
    from fieldsync.records import roster_match

    content = file.read_bytes()
    plan = roster_match.plan(instance.store, content, file.name, default_town=town)
    for kind, count, rows in plan.summary():
        shown = ", ".join(map(str, rows[:30])) + (" …" if len(rows) > 30 else "")
        click.echo(f"{kind:<10}{count:>6}  {_('rows %(rows)s', rows=shown) if rows else ''}".rstrip())
    for row, person, differ in plan.conflicts:
        click.echo("  " + _("Row %(row)s %(column)s: %(message)s", row=row, column=person["name"],
                            message=roster_match.describe(differ)))
    for error in plan.errors:
        click.echo(str(error), err=True)
    if not plan.ok:
        raise click.ClickException(ngettext("Nothing imported: %(num)s problem (listed above).",
                                            "Nothing imported: %(num)s problems (listed above).", len(plan.errors)))
    if dry_run:
        click.echo(_("Nothing written (--dry-run)."))
        return
    done = roster_match.commit(instance.store, content, file.name, plan.digest, actor=cli_actor(),
                               default_town=town)
    click.echo(_("Imported from %(file)s: %(new)s new, %(changed)s filled in, %(conflicts)s conflicts left for "
                 "review.", file=file.name, new=len(done.new), changed=len(done.changed),
                 conflicts=len(done.conflicts)))


@people_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="Full phone and ID numbers (the export is logged); masked otherwise.")
@click.option("--status", type=click.Choice(["active", "cancelled", "all"]), default="active", show_default=True)
@click.option("--village", help="Only this village (12-digit code).")
@pass_instance
@friendly
def people_export(instance: Instance, file: Path, full: bool, status: str, village: str | None):
    """Write the roster to FILE: .xlsx (for Excel) or .csv."""
    from fieldsync.records import roster_export
    from fieldsync.records.schemas import load

    filters = load(roster_export.RosterFilter(), {"status": status, **({"village": village} if village else {})})
    export = roster_export.export_file(instance.store, file, filters, full=full, actor=cli_actor())
    click.echo(ngettext("Wrote %(num)s person to %(file)s with full phone and ID numbers (logged).",
                        "Wrote %(num)s people to %(file)s with full phone and ID numbers (logged).",
                        export.rows, file=file) if full
               else ngettext("Wrote %(num)s person to %(file)s (phones and ID numbers masked).",
                             "Wrote %(num)s people to %(file)s (phones and ID numbers masked).", export.rows, file=file))


@click.command("badges")
@click.option("--person", "person_ids", multiple=True, help="A person's id; repeat for several.")
@click.option("--town", help="12-digit town code (default: everyone active on this node).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="sheet.pdf, sheet.png (one file a page) or sheet.html.")
@pass_instance
@friendly
def badges_command(instance: Instance, person_ids: tuple[str, ...], town: str | None, output: Path):
    """Print A4 badge sheets: 2 × 5 cards a page with name, town, village, level and QR."""
    from fieldsync import printing
    from fieldsync.records import badge_sheet

    roster = badge_sheet.select_people(instance.store, list(person_ids), town)
    written = printing.write_badge_sheet(instance.store, output, roster)
    click.echo(ngettext("%(num)s badge written to %(files)s", "%(num)s badges written to %(files)s", len(roster),
                        files=", ".join(map(str, written))))


@click.group("certificates")
def certificates_group():
    """社会体育指导员等级证书: print them (numbers given once, by config.toml's certificate_number)."""


@certificates_group.command("print")
@click.option("--session", "session_id", help="Every passed trainee of this training.")
@click.option("--person", "person_ids", multiple=True, help="A person id (repeat for several).")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .pdf to write.")
@pass_instance
@friendly
def certificates_print(instance: Instance, session_id: str | None, person_ids: tuple[str, ...], output: Path):
    """Print certificates as one PDF, a page each."""
    from fieldsync.records import certificates, roster_export, sessions

    if bool(session_id) == bool(person_ids):
        raise click.UsageError(_("Give either --session or --person."))
    roster_export.check_folder(output)
    if session_id:
        sessions.get(instance.store, session_id)
        person_ids = tuple(certificates.passed_trainees(instance.store, session_id))
    rule = certificates.Rule.from_config(instance.settings)
    output.write_bytes(certificates.print_pdf(instance.store, list(person_ids), rule, actor=cli_actor()))
    click.echo(ngettext("%(num)s certificate written to %(file)s", "%(num)s certificates written to %(file)s",
                        len(person_ids), file=output))
