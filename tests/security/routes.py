"""Every route of an app with the role its @require asks for, and a URL that reaches it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask

# Routes anyone may call: signing in, liveness, the API description, static files,
# the start page (it redirects by role), a station joining with its one-time link, the association's
# public page and display.
# A new route without @require fails the access test until it is listed here on purpose.
PUBLIC = {"auth.login", "auth.logout", "api.health", "api.openapi", "static", "admin.home", "stations.join",
          "sync_hub.enroll",  # a laptop enrolling has only its one-time code
          "public.page", "public.display",  # the association's public page and 电子显示屏: read-only, consented
          # the instructor's own page opens with its signed link; anyone checks a certificate (decision 0250)
          "self_service.instructor_page", "self_service.ask_correction", "self_service.own_certificate",
          "self_service.verify_page", "self_service.verify_code"}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
DUMMY_ID = "01JAAAAAAAAAAAAAAAAAAAAAAA"


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str          # with every argument filled in
    role: str | None   # what @require asks for; None: no @require
    kinds: tuple = ()

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


def required(view) -> tuple[str | None, tuple]:
    """Read role and kinds from the closure of auth.require's wrapper, through other decorators.
    The hub's sync calls (sync_api.node_required) take node tokens only: role "node"."""
    while view is not None:
        if view.__code__.co_qualname.startswith("node_required."):
            return "node", ("node",)
        cells = dict(zip(view.__code__.co_freevars, (c.cell_contents for c in view.__closure__ or ())))
        if "role" in cells and "kinds" in cells and view.__code__.co_name == "wrapper":
            return cells["role"], cells["kinds"]
        view = getattr(view, "__wrapped__", None)
    return None, ()


def fill(rule: str, ids: dict[str, str]) -> str:
    """The rule's path with each argument given: ids by name, else the first choice, 1, or a dummy id."""
    def value(match: re.Match) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip(" '\"")
        return "1" if converter.startswith("int") else ids.get(name, DUMMY_ID)
    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule)


def routes(app: Flask, ids: dict[str, str] | None = None) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        role, kinds = required(app.view_functions[rule.endpoint])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.endpoint, method, fill(rule.rule, ids or {}), role, kinds))
    return found


def csrf_checked(route: Route) -> bool:
    return route.method in UNSAFE
