"""`fieldsync service`: how many services a year make an instructor 一线 (reports/service.py),
registered on the main command group by cli.py. The list itself is `fieldsync report frontline`."""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, WholeNumber, cli_actor, friendly, pass_instance
from fieldsync.i18n import _


@click.group("service")
def service_group():
    """上岗率 and the 一线社会体育指导员 list: the association's settings."""


@service_group.command("min-services")
@click.argument("number", required=False, type=WholeNumber(1, 366))
@pass_instance
@friendly
def min_services(instance: Instance, number: int | None):
    """Show, or set to NUMBER, the services a year that make an instructor front-line (default 3)."""
    from fieldsync.reports import service

    if number is not None:
        service.set_min_services(instance.store, number, actor=cli_actor())
    click.echo(_("An instructor is front-line from %(n)s services a year.", n=service.min_services(instance.store.db)))
