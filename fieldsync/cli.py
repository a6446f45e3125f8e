"""The `fieldsync` command: thin click wrappers over records/, sync/ and reports/.

Each command opens the instance, calls one domain function, and turns our
errors into one readable line (exit status 1), never a traceback.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from fieldsync import __version__
from fieldsync import config as settings
from fieldsync.errors import FieldsyncError


class Instance:
    """The instance folder chosen for this command, opened on first use."""

    def __init__(self, path: Path):
        self.path = path
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from fieldsync.store import Store

            self._store = Store(self.path / "fieldsync.db")
        return self._store

    @property
    def settings(self) -> dict:
        return settings.load(self.path)

    def close(self):
        if self._store is not None:
            self._store.close()


pass_instance = click.make_pass_decorator(Instance)


def friendly(command):
    """Print domain errors as one line and exit 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except FieldsyncError as exc:
            detail = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                               for k, v in exc.fields.items()) if exc.fields else ""
            raise click.ClickException(exc.message + (f" ({detail})" if detail and detail not in exc.message else ""))
    return wrapper


@click.group(help=f"""fieldsync {__version__}: offline-first check-in and sync for community
sports instructor associations.

The instance folder (database, keys, config.toml) comes from --instance, else
$FIELDSYNC_INSTANCE, else {settings.default_instance()}.""")
@click.option("--instance", type=click.Path(file_okay=False, path_type=Path),
              envvar="FIELDSYNC_INSTANCE", help="Instance folder to use.")
@click.version_option(__version__, prog_name="fieldsync")
@click.pass_context
def main(ctx: click.Context, instance: Path | None):
    ctx.obj = Instance(settings.resolve_instance(instance))
    ctx.call_on_close(ctx.obj.close)


@main.command()
@click.option("--hub", is_flag=True, help="Make this a city hub instead of a town node.")
@click.option("--town", help="12-digit code of the town this node serves.")
@click.option("--admin", "admin_name", default="admin", show_default=True, help="First admin's username.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="First admin's password (asked when not given).")
@pass_instance
@friendly
def init(instance: Instance, hub: bool, town: str | None, admin_name: str, password: str):
    """Create the instance folder, its database and the first admin."""
    from fieldsync.records import places, users

    settings.save(instance.path, mode="hub" if hub else "node", town=town)
    store = instance.store
    places.import_places(store, places.load_fixture()["places"])
    if town and places.get(store, town) is None:
        raise click.ClickException(f"Town {town} is not in the gazetteer.")
    users.create(store, admin_name, password, "admin")
    click.echo(f"Created {'hub' if hub else 'node'} instance in {instance.path}")
    click.echo(f"Admin account: {admin_name}. Start it with: fieldsync --instance {instance.path} serve")


@main.command()
@click.option("--reset", is_flag=True, help="Delete the instance's database first.")
@pass_instance
@friendly
def demo(instance: Instance, reset: bool):
    """Load the demo city, a town's roster and sessions; say where to click."""
    from fieldsync import demo as demo_data

    db_file = instance.path / "fieldsync.db"
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_file) + suffix).unlink(missing_ok=True)
    elif db_file.exists():
        raise click.ClickException(f"{instance.path} already has data; use --reset to start over.")
    settings.save(instance.path, mode="node", town=demo_data.DEMO_TOWN)
    loaded = demo_data.load(instance.store)
    click.echo(f"Demo loaded into {instance.path}: {loaded['town_name']}, {loaded['people']} people, "
               f"{len(loaded['sessions'])} sessions.")
    click.echo(f"Accounts (password {demo_data.DEMO_PASSWORD}): "
               + ", ".join(name for name, _, _ in demo_data.ACCOUNTS))
    click.echo("Then open the kiosk of today's training at /kiosk/" + loaded["sessions"][0]["id"])


@main.command()
@click.option("--hub", is_flag=True, help="Serve as the city hub.")
@click.option("--host", help="Address to listen on (default 127.0.0.1; 0.0.0.0 for phones on the Wi-Fi).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8080).")
@click.option("--threads", type=click.IntRange(1, 256), help="Worker threads (default 32).")
@click.option("--tls", is_flag=True, help="HTTPS with a self-signed certificate, so phones on the Wi-Fi "
              "may use their camera; listens on 0.0.0.0 unless --host is given.")
@pass_instance
@friendly
def serve(instance: Instance, hub: bool, host: str | None, port: int | None, threads: int | None, tls: bool):
    """Run the web server (waitress)."""
    import waitress

    from fieldsync.server import create_app

    overrides = {"MODE": "hub"} if hub else {}
    app = create_app(overrides, instance=instance.path)
    cfg = app.config
    if tls:
        from fieldsync.server import tls as https

        plan = https.prepare(instance.path, host or "0.0.0.0", port or cfg["PORT"])
        click.echo(f"fieldsync {cfg['MODE']} serving {instance.path} over HTTPS ({plan.cert})")
        click.echo("Phones join at: " + "  ".join(plan.urls))
        click.echo(f"Make a join QR for each phone at {plan.urls[0]}/kiosk/stations   (Ctrl+C to stop)")
        sys.stdout.flush()
        https.serve(app, plan, threads=threads or cfg["THREADS"], ident="fieldsync", channel_timeout=60)
        return
    host, port = host or cfg["HOST"], port or cfg["PORT"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"fieldsync {cfg['MODE']} serving {instance.path}")
    click.echo(f"Open http://{shown}:{port}/   (Ctrl+C to stop)")
    sys.stdout.flush()
    waitress.serve(app, host=host, port=port, threads=threads or cfg["THREADS"],
                   ident="fieldsync", channel_timeout=60, clear_untrusted_proxy_headers=True)


@main.group()
def user():
    """Web accounts: admin, staff, trainer."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "staff", "trainer"]), default="staff", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_instance
@friendly
def user_add(instance: Instance, username: str, role: str, password: str):
    """Create an account."""
    from fieldsync.records import users

    users.create(instance.store, username, password, role)
    click.echo(f"Created {role} {username}.")


@user.command("list")
@pass_instance
def user_list(instance: Instance):
    """List accounts."""
    from fieldsync.records import users

    for row in users.listing(instance.store):
        click.echo(f"{row['username']:<20} {row['role']:<8} {row['display_name'] or ''}")


@user.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_instance
@friendly
def user_password(instance: Instance, username: str, password: str):
    """Set a new password."""
    from fieldsync.records import users

    users.set_password(instance.store, username, password)
    click.echo(f"Password of {username} changed.")
