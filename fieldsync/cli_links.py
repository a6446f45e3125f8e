"""`fieldsync links`: give, show or revoke an instructor's personal link to their own page on the
hub (records/personal_links.py, decision 0250), registered on the main command group by cli.py."""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, cli_actor, friendly, pass_instance
from fieldsync.i18n import _


@click.group("links")
def links_group():
    """Personal links to the instructor's own page (hub): show, issue a new one, revoke."""


def _hub(instance: Instance) -> None:
    if instance.settings["MODE"] != "hub":
        raise click.ClickException(_("Personal links are given by the hub, which serves the instructor's page."))


def _url(instance: Instance, address: str | None, token: str) -> str:
    base = address or f"http://{instance.settings['HOST']}:{instance.settings['PORT']}"
    return f"{base.rstrip('/')}/me/{token}"


ADDRESS = click.option("--address", metavar="URL",
                       help="The hub's address as instructors' phones reach it (default: this server's host and port).")


@links_group.command("show")
@click.argument("person_id")
@ADDRESS
@pass_instance
@friendly
def links_show(instance: Instance, person_id: str, address: str | None):
    """The person's current link (given now if they never had one)."""
    from fieldsync.records import people, personal_links

    _hub(instance)
    token = personal_links.current(instance.store, people.get(instance.store, person_id), actor=cli_actor())
    click.echo(_url(instance, address, token) if token else _("The link was revoked; give a new one with: %(command)s",
                                                               command=f"fieldsync links issue {person_id}"))


@links_group.command("issue")
@click.argument("person_id")
@ADDRESS
@pass_instance
@friendly
def links_issue(instance: Instance, person_id: str, address: str | None):
    """A new link for the person: every earlier one stops working."""
    from fieldsync.records import personal_links

    _hub(instance)
    click.echo(_url(instance, address, personal_links.issue(instance.store, person_id, actor=cli_actor())))


@links_group.command("revoke")
@click.argument("person_id")
@pass_instance
@friendly
def links_revoke(instance: Instance, person_id: str):
    """Every link the person holds stops working."""
    from fieldsync.records import personal_links

    _hub(instance)
    personal_links.revoke(instance.store, person_id, actor=cli_actor())
    click.echo(_("Personal link revoked: it no longer opens the page."))
