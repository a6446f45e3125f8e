"""The `fieldsync` command: thin click wrappers over records/, sync/ and reports/.

Each command opens the instance, calls one domain function, and turns our
errors into one readable line (exit status 1), never a traceback. Messages
follow --lang, else the system's language (Chinese on a Chinese system).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from datetime import date
from pathlib import Path

import click

from fieldsync import __version__, i18n
from fieldsync import config as settings
from fieldsync.errors import FieldsyncError
from fieldsync.i18n import _, ngettext
from fieldsync.records.validators import whole_number


class Instance:
    """The instance folder chosen for this command, opened on first use."""

    def __init__(self, path: Path):
        self.path = path
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from fieldsync.parts import open_store

            self._store = open_store(self.path / "fieldsync.db")
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


class WholeNumber(click.ParamType):
    """An integer option within bounds, in ASCII digits (click's INT, like int(), takes '٣')."""

    name = "integer"

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def convert(self, value, param, ctx) -> int:
        try:
            number = value if isinstance(value, int) else whole_number(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if not self.low <= number <= self.high:
            self.fail(_("%(number)s is not between %(low)s and %(high)s.", number=number, low=self.low,
                        high=self.high), param, ctx)
        return number


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
@click.option("--admin", "admin_name", default="admin", show_default=True, help="First admin's username.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="First admin's password (asked when not given).")
@pass_instance
@friendly
def init(instance: Instance, hub: bool, unit: str | None, town: str | None, admin_name: str, password: str):
    """Create the instance folder, its database and the first admin (no demo data)."""
    from fieldsync.records import place_import, places, theme_days, users

    if unit and not hub:
        raise click.UsageError(_("--unit is for a hub; a laptop's town comes with --town or at enrollment."))
    if unit and place_import.code_level(unit) not in ("province", "city", "county"):
        raise click.UsageError(_("%(code)s is not the code of a province, city or county (6 or 12 digits).",
                                 code=unit))
    if town and place_import.code_level(town) != "town":
        raise click.UsageError(_("%(code)s is not the 12-digit code of a town (乡镇、街道).", code=town))
    store = instance.store
    users.create(store, admin_name, password, "admin")   # first: a refused password leaves no half-made hub
    if unit:
        places.set_home_unit(store, unit)
    if hub:   # a laptop takes its hub's list
        theme_days.seed(store, date.today().year, actor=cli_actor())
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
    if reset:
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
    from fieldsync.server import close, create_app

    overrides = {"MODE": "hub"} if hub else {}
    if tls:
        overrides["SESSION_COOKIE_SECURE"] = True  # every browser request arrives over https
    app = create_app(overrides, instance=instance.path)
    from fieldsync.sync import scheduler

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


@main.group()
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


def cli_actor() -> str:
    """Who a command acts as in the history: the operating-system account."""
    return "cli:" + (os.environ.get("USER") or os.environ.get("USERNAME") or "unknown")


@main.group("people")
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
    from fieldsync.records import roster_io
    from fieldsync.records.schemas import load

    filters = load(roster_io.RosterFilter(), {"status": status, **({"village": village} if village else {})})
    export = roster_io.export_file(instance.store, file, filters, full=full, actor=cli_actor())
    click.echo(ngettext("Wrote %(num)s person to %(file)s with full phone and ID numbers (logged).",
                        "Wrote %(num)s people to %(file)s with full phone and ID numbers (logged).",
                        export.rows, file=file) if full
               else ngettext("Wrote %(num)s person to %(file)s (phones and ID numbers masked).",
                             "Wrote %(num)s people to %(file)s (phones and ID numbers masked).", export.rows, file=file))


@main.command("badges")
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


@main.group("certificates")
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
    from fieldsync.records import certificates, roster_io, sessions

    if bool(session_id) == bool(person_ids):
        raise click.UsageError(_("Give either --session or --person."))
    roster_io.check_folder(output)
    if session_id:
        sessions.get(instance.store, session_id)
        person_ids = tuple(certificates.passed_trainees(instance.store, session_id))
    rule = certificates.Rule.from_config(instance.settings)
    output.write_bytes(certificates.print_pdf(instance.store, list(person_ids), rule, actor=cli_actor()))
    click.echo(ngettext("%(num)s certificate written to %(file)s", "%(num)s certificates written to %(file)s",
                        len(person_ids), file=output))


@main.group("sessions")
def sessions_group():
    """Trainings, volunteer activities, theme days, fitness monitoring."""


@sessions_group.command("list")
@click.option("--kind", type=click.Choice(["training", "volunteer", "theme", "monitoring"]))
@click.option("--all", "include_cancelled", is_flag=True, help="Include cancelled sessions.")
@pass_instance
@friendly
def sessions_list(instance: Instance, kind: str | None, include_cancelled: bool):
    """List sessions, newest first."""
    from fieldsync.records import sessions
    from fieldsync.records.schemas import SESSION_KINDS

    for row in sessions.listing(instance.store, kind=kind, include_cancelled=include_cancelled):
        cancelled = "  " + _("[cancelled]") if row["status"] != "active" else ""
        click.echo(f"{row['id']}  {row['starts_at']}  {SESSION_KINDS[row['kind']]}  {row['title']}  "
                   + _("(%(num)s checked in)", num=row["attendees"]) + cancelled)


SESSION_OPTIONS = {"starts": "starts_at", "ends": "ends_at", "contact": "contact_name",
                   "contact_phone": "contact_phone"}


@sessions_group.command("add")
@click.option("--kind", required=True, help="training, volunteer, theme or monitoring (or 培训, 志愿服务, 主题日活动, 体质监测).")
@click.option("--title", required=True, help="活动名称.")
@click.option("--starts", required=True, help="When it starts (举办时间), e.g. 2025-05-28T09:00.")
@click.option("--ends", help="When it ends, e.g. 2025-05-28T11:30.")
@click.option("--hours", help="Volunteer hours credited to each attendee.")
@click.option("--organizer", help="举办单位.")
@click.option("--summary", help="活动简介.")
@click.option("--mode", help="offline or online (线下/线上); default offline.")
@click.option("--venue", help="Where it takes place.")
@click.option("--contact", help="联系人.")
@click.option("--contact-phone", help="联系方式: a mobile, or a landline such as 0631-5212345.")
@click.option("--notes", help="备注.")
@click.option("--venue-type", help='体育"六进" venue: office, campus, enterprise, community, square or family'
              " (机关/单位, 校园, 厂矿/企业, 社区/农村, 广场/公园, 家庭).")
@click.option("--groups-served", help="Groups served, comma-separated: elderly, disabled, youth, workers, farmers,"
              " women, intellectuals (老年人, 残疾人, 青少年/幼儿, 职工, 农民, 妇女, 知识分子).")
@click.option("--safety-plan/--no-safety-plan", default=None,
              help="Whether a safety plan (安全工作方案/应急预案) is on file.")
@click.option("--theme-day", help="Id of the theme day it serves (fieldsync theme-days list), or auto:"
              " the one its date falls on.")
@click.option("--town", help="12-digit town code (default: this node's town).")
@click.option("--village", help="12-digit village code.")
@pass_instance
@friendly
def sessions_add(instance: Instance, **options):
    """Create a session; every field is checked as the web form checks it."""
    from fieldsync.records import sessions, theme_days
    from fieldsync.records.schemas import SessionSchema, load

    data = {SESSION_OPTIONS.get(name, name): value for name, value in options.items() if value is not None}
    data.setdefault("town", instance.settings["TOWN"])
    if data.get("theme_day") == "auto":   # the theme day the date falls on, if any
        found = theme_days.suggest(instance.store.db, str(data.get("starts_at", "")))
        data["theme_day"] = found["id"] if found else None
    session = sessions.create(instance.store, load(SessionSchema(), data), actor=cli_actor())
    theme_day = theme_days.get(instance.store.db, session["theme_day"])["name"] if session["theme_day"] else None
    click.echo(_("Created session %(id)s: %(title)s. Kiosk page: %(path)s", id=session["id"], title=session["title"],
                 path=f"/kiosk/{session['id']}")
               + (" " + _("Theme day: %(name)s.", name=theme_day) if theme_day else ""))


# -- sync (fieldsync/sync) -------------------------------------------------------------------------
@main.command()
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


@main.command("sync")
@pass_instance
@friendly
def sync_command(instance: Instance):
    """Push this laptop's records to the hub, then pull its town's roster and sessions."""
    from fieldsync.sync import node

    store = instance.store
    waiting = node.status(store, instance.path)["waiting"]
    with click.progressbar(length=waiting, label=_("Pushing"), file=sys.stderr) as bar:
        summary = node.sync(store, instance.path, progress=lambda stage, n: bar.update(n) if stage == "push" else None)
    text = summary.text()
    click.echo(text[:1].upper() + text[1:] + _("."))


@main.group("bundle")
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


@main.group("nodes")
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
    from fieldsync.sync import receive

    receive.hub_restored(instance.store, actor=cli_actor())
    click.echo(_("New hub epoch: every laptop's pull cursor is void; each takes a fresh snapshot at its next sync."))


from fieldsync import cli_exports, cli_filings, cli_places, cli_theme_days

main.add_command(cli_places.places_group)
main.add_command(cli_places.targets_group)
main.add_command(cli_exports.export_group)
main.add_command(cli_theme_days.theme_days_group)
main.add_command(cli_filings.filings_group)
