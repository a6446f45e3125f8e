"""`fieldsync user`: the web accounts (admin, staff, trainer) and the units they are limited to;
thin wrappers over records/users.py, registered on the main group by cli.py.
"""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, friendly, pass_instance
from fieldsync.i18n import _


@click.group()
def user():
    """Web accounts: admin, staff, trainer."""


UNIT_HELP = "A town, county or city code the account is limited to; repeat for several (default: every unit)."


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "staff", "trainer"]), default="staff", show_default=True)
@click.option("--unit", "units", multiple=True, help=UNIT_HELP)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_instance
@friendly
def user_add(instance: Instance, username: str, role: str, units: tuple[str, ...], password: str):
    """Create an account."""
    from fieldsync.records import users

    users.create(instance.store, username, password, role, units=list(units))
    click.echo(_("Created %(role)s %(name)s for %(units)s.", role=role, name=username, units=", ".join(units)) if units
               else _("Created %(role)s %(name)s.", role=role, name=username))


@user.command("units")
@click.argument("username")
@click.argument("units", nargs=-1)
@pass_instance
@friendly
def user_units(instance: Instance, username: str, units: tuple[str, ...]):
    """Limit an account to these town, county or city codes (none given: every unit)."""
    from fieldsync.records import users

    kept = users.set_units(instance.store, username, list(units))
    click.echo(_("%(name)s now works in %(units)s.", name=username, units=", ".join(kept)) if kept
               else _("%(name)s now works in every unit.", name=username))


@user.command("list")
@pass_instance
def user_list(instance: Instance):
    """List accounts."""
    from fieldsync.records import users

    for row in users.listing(instance.store):
        state = "  " + _("[disabled]") if row["disabled_at"] else ""
        click.echo(f"{row['username']:<20} {row['role']:<8} {row['display_name'] or ''}"
                   f"  {' '.join(row['units']) or _('(every unit)')}{state}")


@user.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_instance
@friendly
def user_password(instance: Instance, username: str, password: str):
    """Set a new password; the account is signed out everywhere."""
    from fieldsync.records import users

    users.set_password(instance.store, username, password)
    click.echo(_("Password of %(name)s changed; every session of %(name)s has ended.", name=username))
