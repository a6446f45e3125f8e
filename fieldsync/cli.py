"""The `fieldsync` command: thin click wrappers over records/, sync/ and reports/.

This module holds the main group and the instance's own commands (init, demo, serve, report);
each area's commands live in a cli_*.py module of their own and are added to the group below.
Each command opens the instance, calls one domain function, and turns our
errors into one readable line (exit status 1), never a traceback. Messages
follow --lang, else the system's language (Chinese on a Chinese system).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from fieldsync import (
    __version__,
    cli_exports,
    cli_filings,
    cli_hub,
    cli_links,
    cli_people,
    cli_places,
    cli_service,
    cli_sessions,
    cli_sync,
    cli_theme_days,
    cli_users,
    i18n,
)
from fieldsync import config as settings
from fieldsync.cli_base import Instance, WholeNumber, cli_actor, friendly, pass_instance
from fieldsync.i18n import _
from fieldsync.store import clock, dialect


@click.group(help=f"""fieldsync {__version__}: offline-first check-in and sync for community
sports instructor associations.

The instance folder (database, keys, config.toml) comes from --instance, else
$FIELDSYNC_INSTANCE, else {settings.default_instance()}.""")
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path),
              envvar="FIELDSYNC_INSTANCE", help="Instance folder to use.")
@click.option("--lang", type=click.Choice(i18n.LANGUAGES),
              help="Language of the messages: zh or en (default: the system's; Chinese on a Chinese system).")
@click.version_option(__version__, prog_name="fieldsync")
@click.pass_context
def main(ctx: click.Context, instance: Path | None, lang: str | None):
    i18n.choose(lang or i18n.system_language())
    ctx.obj = Instance(settings.resolve_instance(instance))
    ctx.call_on_close(ctx.obj.close)


@main.command()
@click.option("--hub", is_flag=True, help="Make this a hub (county, city or province) instead of a town node.")
@click.option("--unit", help="Hub: code of the province, city or county it serves; then `fieldsync places import FILE`.")
@click.option("--town", help="12-digit code of the town this node serves (its places come from the hub).")
@click.option("--database", metavar="URL",
              help="Hub: keep its data in this PostgreSQL database (postgresql://user@host/name), not in a file.")
@click.option("--admin", "admin_name", default="admin", show_default=True, help="First admin's username.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="First admin's password (asked when not given).")
@pass_instance
@friendly
def init(instance: Instance, hub: bool, unit: str | None, town: str | None, database: str | None, admin_name: str,
         password: str):
    """Create the instance folder, its database and the first admin (no demo data)."""
    from fieldsync.records import place_import, places, theme_days, users

    if unit and not hub:
        raise click.UsageError(_("--unit is for a hub; a laptop's town comes with --town or at enrollment."))
    if unit and place_import.code_level(unit) not in ("province", "city", "county"):
        raise click.UsageError(_("%(code)s is not the code of a province, city or county (6 or 12 digits).",
                                 code=unit))
    if town and place_import.code_level(town) != "town":
        raise click.UsageError(_("%(code)s is not the 12-digit code of a town (乡镇、街道).", code=town))
    if database is not None:
        if not hub:
            raise click.UsageError(_("--database is for a hub; a town laptop keeps its data in its own file."))
        if not dialect.is_postgres(database):
            raise click.UsageError(_("--database takes a PostgreSQL address: postgresql://user@host/name"))
        from fieldsync.store import pg

        pg.check_database(database)   # reachable and sorting as SQLite does, before it is written down
        settings.save(instance.path, database=database)
    store = instance.store
    users.create(store, admin_name, password, "admin")   # first: a refused password leaves no half-made hub
    if unit:
        places.set_home_unit(store, unit)
    if hub:   # a laptop takes its hub's list
        theme_days.seed(store, clock.today().year, actor=cli_actor())
    settings.save(instance.path, mode="hub" if hub else "node", town=town)
    click.echo(_("Created a hub instance in %(path)s", path=instance.path) if hub
               else _("Created a node instance in %(path)s", path=instance.path))
    if hub:
        click.echo(_("Next: fieldsync --instance %(path)s places import FILE (your 统计用区划代码 list), "
                     "then places population FILE and targets set.", path=instance.path))
    click.echo(_("Admin account: %(name)s. Start it with: %(command)s", name=admin_name,
                 command=f"fieldsync --instance {instance.path} serve" + (" --hub" if hub else "")))


@main.command()
@click.option("--reset", is_flag=True, help="Delete the instance's database first.")
@click.option("--hub", is_flag=True, help="Load the whole city as a hub: every town, a year of activities.")
@pass_instance
@friendly
def demo(instance: Instance, reset: bool, hub: bool):
    """Load the demo city, a town's roster and sessions; say where to click."""
    from fieldsync import demo as demo_data

    db_file = instance.path / "fieldsync.db"
    if dialect.is_postgres(instance.settings.get("DATABASE")):
        if reset or instance.store.query_one("SELECT 1 FROM people LIMIT 1"):
            raise click.ClickException(_("%(path)s keeps its data in PostgreSQL, which already has data; to start "
                                         "over, drop and create that database again.", path=instance.path))
    elif reset:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_file) + suffix).unlink(missing_ok=True)
    elif db_file.exists():
        raise click.ClickException(_("%(path)s already has data; use --reset to start over.", path=instance.path))
    if hub:
        settings.save(instance.path, mode="hub")
        loaded = demo_data.load_hub(instance.store)
        click.echo(_("Demo city loaded into %(path)s: %(towns)s towns, %(people)s people, %(sessions)s sessions, "
                     "%(checkins)s check-ins in %(year)s.", path=instance.path, **loaded))
        click.echo(_("Accounts (password %(password)s): %(names)s", password=demo_data.DEMO_PASSWORD,
                     names=", ".join(account[0] for account in demo_data.ACCOUNTS)))
        click.echo(_("Then: %(command)s, and open /hub/", command=f"fieldsync --instance {instance.path} serve --hub"))
        return
    settings.save(instance.path, mode="node", town=demo_data.DEMO_TOWN)
    loaded = demo_data.load(instance.store)
    click.echo(_("Demo loaded into %(path)s: %(town)s, %(people)s people, %(sessions)s sessions.",
                 path=instance.path, town=loaded["town_name"], people=loaded["people"],
                 sessions=len(loaded["sessions"])))
    click.echo(_("Accounts (password %(password)s): %(names)s", password=demo_data.DEMO_PASSWORD,
                 names=", ".join(account[0] for account in demo_data.ACCOUNTS)))
    click.echo(_("Then open the kiosk of today's training at %(path)s", path="/kiosk/" + loaded["sessions"][0]["id"]))


@main.command()
@click.option("--hub", is_flag=True, help="Serve as the city hub.")
@click.option("--host", help="Address to listen on (default 127.0.0.1; 0.0.0.0 for phones on the Wi-Fi).")
@click.option("--port", type=WholeNumber(1, 65535), help="Port (default 8080).")
@click.option("--threads", type=WholeNumber(1, 256), help="Worker threads (default 32).")
@click.option("--tls", is_flag=True, help="HTTPS with a self-signed certificate, so phones on the Wi-Fi "
              "may use their camera; listens on 0.0.0.0 unless --host is given.")
@pass_instance
@friendly
def serve(instance: Instance, hub: bool, host: str | None, port: int | None, threads: int | None, tls: bool):
    """Run the web server (waitress)."""
    from fieldsync.server import close, connections, create_app

    connections.few_malloc_arenas()   # before the writer's, the scheduler's and waitress's threads
    overrides = {"MODE": "hub"} if hub else {}
    if tls:
        overrides["SESSION_COOKIE_SECURE"] = True  # every browser request arrives over https
    app = create_app(overrides, instance=instance.path)
    from fieldsync.sync.upstream import scheduler

    scheduler.start_for(app)   # a node syncs by itself every AUTO_SYNC_SECONDS (0: off)
    # A service manager stops us with SIGTERM: end as after Ctrl+C, so the store closes cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _serve(app, instance.path, host, port, threads, tls)
    finally:
        close(app)


def _serve(app, path: Path, host: str | None, port: int | None, threads: int | None, tls: bool) -> None:
    from fieldsync.server import connections

    cfg = app.config
    if tls:
        from fieldsync.server import tls as https

        plan = https.prepare(path, host or "0.0.0.0", port or cfg["PORT"])
        click.echo(_("fieldsync %(mode)s serving %(path)s over HTTPS (%(cert)s)", mode=cfg["MODE"],
                     path=path, cert=plan.cert))
        click.echo(_("Phones join at: %(urls)s", urls="  ".join(plan.urls)))
        click.echo(_("Make a join QR for each phone at %(url)s   (Ctrl+C to stop)", url=f"{plan.urls[0]}/kiosk/stations"))
        sys.stdout.flush()
        https.serve(app, plan, per_client=cfg["CLIENT_CONNECTIONS"],
                    **connections.waitress_options(threads or cfg["THREADS"]))
        return
    host, port = host or cfg["HOST"], port or cfg["PORT"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(_("fieldsync %(mode)s serving %(path)s", mode=cfg["MODE"], path=path))
    click.echo(_("Open %(url)s   (Ctrl+C to stop)", url=f"http://{shown}:{port}/"))
    sys.stdout.flush()
    connections.serve(app, host, port, threads=threads or cfg["THREADS"], per_client=cfg["CLIENT_CONNECTIONS"])


@main.command()
@click.argument("name")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; .xlsx or .csv picks the format.")
@click.option("--year", help="Year (default: this year).")
@click.option("--unit", help="Town, county, city or province code inside this hub's area (default: the hub's own unit).")
@click.option("--kind", help="Only sessions of this kind (统计表).")
@click.option("--session", help="Session id (attendance sheet).")
@click.option("--table", help="Database table (table export).")
@pass_instance
@friendly
def report(instance: Instance, name: str, output: Path | None, **params):
    """Write the report NAME to a file; `fieldsync report list` shows every report."""
    from fieldsync.reports import registry

    if name == "list":
        for item in registry.REPORTS.values():
            click.echo(f"{item.name:<16} {'/'.join(item.formats):<9} {item.title_zh} ({item.title_en}); "
                       + _("takes %(params)s", params=", ".join(item.params)))
        return
    if output is None:
        raise click.UsageError(_("Say where to write it: --output FILE.xlsx or FILE.csv"))
    from fieldsync.reports import rollup

    rollup.keep_live(instance.store, True)  # a town laptop's rollups are rebuilt on demand
    rollup.current(instance.store)
    _name, chunks = registry.prepare(instance.store.db, name, output.suffix.lstrip(".").lower(), params)
    with output.open("wb") as out:
        out.writelines(chunks)
    click.echo(_("Wrote %(path)s", path=output))


for command in (cli_users.user, cli_people.people_group, cli_people.badges_command,
                cli_people.certificates_group, cli_sessions.sessions_group, cli_sync.enroll,
                cli_sync.sync_command, cli_sync.bundle_group, cli_sync.nodes_group,
                cli_places.places_group, cli_places.targets_group, cli_exports.export_group,
                cli_theme_days.theme_days_group, cli_filings.filings_group, cli_links.links_group,
                cli_service.service_group, cli_hub.hub_group):
    main.add_command(command)
