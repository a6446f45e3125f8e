"""`fieldsync sessions`: list and add trainings and activities (records/sessions.py), registered on
the main group by cli.py.
"""

from __future__ import annotations

import click

from fieldsync.cli_base import Instance, cli_actor, friendly, pass_instance
from fieldsync.i18n import _


@click.group("sessions")
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
