"""`fieldsync enroll`, `sync`, `bundle` and `nodes`: a laptop's side and a hub's side of sync
(fieldsync/sync), registered on the main group by cli.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldsync.cli_base import Instance, cli_actor, friendly, pass_instance
from fieldsync.i18n import _, ngettext


@click.command()
@click.argument("hub_url")
@click.argument("code")
@pass_instance
@friendly
def enroll(instance: Instance, hub_url: str, code: str):
    """Enroll this laptop with the hub, using the one-time code a hub admin made."""
    from fieldsync.sync import enrollment

    answer = enrollment.enroll(instance.store, instance.path, hub_url, code)
    click.echo(_("Enrolled as %(name)s for %(town)s (node %(node)s). The token is in %(file)s. Now run: "
                 "fieldsync sync", name=answer["name"], town=answer["town_name"], node=answer["node_id"],
                 file=instance.path / enrollment.CREDENTIALS_FILE))


@click.command("sync")
@pass_instance
@friendly
def sync_command(instance: Instance):
    """Push this laptop's records to the hub, then pull its town's roster and sessions."""
    from fieldsync.sync.link import KeepGoing
    from fieldsync.sync.upstream import node

    store = instance.store
    waiting = node.status(store, instance.path)["waiting"]
    with click.progressbar(length=waiting, label=_("Pushing"), file=sys.stderr) as bar:
        def progress(stage: str, n: float) -> None:
            if stage == "push":
                bar.update(n)
            elif stage == "wait":   # through a link that cuts: say so on a line of its own, then go on
                click.echo("\n" + _("The connection to the hub failed; trying again in %(seconds).1f s "
                                     "(%(sent)s of %(waiting)s records sent).", seconds=n, sent=f"{bar.pos:,}",
                                     waiting=f"{waiting:,}"), err=True)

        summary = node.sync(store, instance.path, progress=progress, keep_going=KeepGoing())
    text = summary.text()
    click.echo(text[:1].upper() + text[1:] + _("."))


@click.group("bundle")
def bundle_group():
    """USB bundles: carry the records that wait for the hub on a stick."""


@bundle_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_instance
@friendly
def bundle_export(instance: Instance, file: Path):
    """Write every record the hub has not acknowledged into FILE, signed by this laptop."""
    from fieldsync.sync import bundles

    written = bundles.export(instance.store, instance.path, file)
    click.echo(ngettext("Wrote %(count)s change", "Wrote %(count)s changes", written["changes"],
                        count=f"{written['changes']:,}")
               + ngettext(" in %(num)s batch to %(file)s.", " in %(num)s batches to %(file)s.", written["batches"],
                          file=file))


@bundle_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--override", is_flag=True, help="Import even though the laptop was revoked.")
@pass_instance
@friendly
def bundle_import(instance: Instance, file: Path, override: bool):
    """On the hub: apply a laptop's bundle, exactly as if it had synced."""
    from fieldsync.sync import bundles

    with file.open("rb") as source:
        done = bundles.import_bundle(instance.store, source, actor=cli_actor(), override=override)
    click.echo(_("From %(node)s: %(batches)s batches (%(replays)s imported before), %(accepted)s records added, "
                 "%(duplicates)s already here, %(rejected)s quarantined.", node=done["node"],
                 batches=done["batches"], replays=done["replays"], accepted=f"{done['accepted']:,}",
                 duplicates=f"{done['duplicates']:,}", rejected=done["rejected"]))


@click.group("nodes")
def nodes_group():
    """On the hub: the town laptops and child hubs that sync with it."""


@nodes_group.command("add")
@click.option("--town", help="12-digit code of the laptop's town.")
@click.option("--unit", help="Instead of --town: a child hub's unit, a county of this city or a city of "
              "this province.")
@click.option("--name", required=True, help="A name you will recognise, e.g. 张村镇办公室.")
@click.option("--hub-url", help="This hub's address as laptops reach it (printed in the enroll command).")
@pass_instance
@friendly
def nodes_add(instance: Instance, town: str | None, unit: str | None, name: str, hub_url: str | None):
    """Add a laptop (--town) or a child hub (--unit); prints its one-time enrollment code (valid 24 hours)."""
    from fieldsync.sync import enrollment

    if bool(town) == bool(unit):
        raise click.UsageError(_("Give either --town (a town laptop) or --unit (a county or city hub)."))
    node, code = enrollment.add_node(instance.store, town or unit, name, actor=cli_actor(), hub=bool(unit))
    click.echo(_("Node %(id)s (%(name)s). Enrollment code: %(code)s", id=node["id"], name=name, code=code))
    command = f"fieldsync enroll {hub_url or 'HUB_URL'} {code}"
    click.echo(_("On the child hub: %(command)s", command=command) if unit
               else _("On the laptop: %(command)s", command=command))


@nodes_group.command("list")
@pass_instance
def nodes_list(instance: Instance):
    """Laptops, their state, last contact, records received and clock skew."""
    from fieldsync.sync import enrollment

    for n in enrollment.list_nodes(instance.store):
        skew = "" if n["clock_skew_ms"] is None else f"{n['clock_skew_ms'] / 1000:+.1f}s"
        click.echo(f"{n['id']}  {n['name']:<16} {n['town_name'] or n['town']:<8} {n['state']:<9} "
                   f"{n['last_seen'] or _('never'):<25} {n['records_received']:>9,} {skew}"
                   + ("  [" + _("child hub") + "]" if n["kind"] == "hub" else "")
                   + ("  " + _("CLOCK OFF") if n["clock_off"] else ""))


@nodes_group.command("revoke")
@click.argument("node_id")
@pass_instance
@friendly
def nodes_revoke(instance: Instance, node_id: str):
    """Revoke a laptop: its next sync answers 401 and says so."""
    from fieldsync.sync import enrollment

    node = enrollment.revoke(instance.store, node_id, actor=cli_actor())
    click.echo(_("Revoked %(name)s.", name=node["name"]))


@nodes_group.command("restored")
@pass_instance
@friendly
def nodes_restored(instance: Instance):
    """After restoring this hub from a backup: every laptop takes a fresh snapshot at its next sync."""
    from fieldsync.sync.downstream import receive

    receive.hub_restored(instance.store, actor=cli_actor())
    click.echo(_("New hub epoch: every laptop's pull cursor is void; each takes a fresh snapshot at its next sync."))
