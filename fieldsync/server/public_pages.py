"""The association's public page and its 电子显示屏 display, served by the hub to anyone.

Read-only, no sign-in, no cookie: upcoming and recent activities, the year's figures against
targets, and the 最美 honours of those who consent to be shown (reports/public.py, decision
0241). The display is the same content in large type, refreshing itself with a meta refresh
(no script: the CSP allows only our own).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template

from fieldsync.reports import public, units
from fieldsync.server.extensions import get_store

bp = Blueprint("public", __name__, url_prefix="/public")
REFRESH_SECONDS = 60


def _content() -> dict:
    db = get_store().db
    unit, year = units.top(db), date.today().year
    resolved = units.resolve(db, unit["code"], year)
    honours_year = public.honours_year(db, year)
    return {"association": resolved.name, "year": year, "activities": public.activities(db, resolved),
            "figures": public.figures(db, resolved, year), "honours_year": honours_year,
            "honours": public.honours(db, honours_year), "names": units.names(db)}


@bp.get("/")
def page():
    return render_template("public.html", **_content())


@bp.get("/display")
def display():
    return render_template("public_display.html", refresh=REFRESH_SECONDS, **_content())
