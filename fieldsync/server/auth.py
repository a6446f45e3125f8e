"""Accounts and who may do what: login, roles, CSRF, and bearer tokens for machines.

People sign in with a password and get a signed session cookie (HttpOnly,
SameSite=Lax). Every state-changing request made with that cookie must carry
the CSRF token, as a form field or an X-CSRF-Token header. Machines (stations,
town nodes) send `Authorization: Bearer`; the areas that issue tokens register
a resolver here, so each endpoint asks one question: who is calling?
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps

from flask import (
    Blueprint,
    Flask,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from fieldsync.errors import Forbidden, Unauthorized
from fieldsync.records import users
from fieldsync.server import get_store

bp = Blueprint("auth", __name__)

# token -> principal dict ({"kind": "station"|"node", "role": ..., ...}) or None
bearer_resolvers: list[Callable[[str], dict | None]] = []
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _load_principal():
        g.user = None
        g.principal = None
        token = _bearer()
        if token:
            for resolve in bearer_resolvers:
                principal = resolve(token)
                if principal:
                    g.principal = principal
                    return
            raise Unauthorized("The access token is not valid (unknown, expired or revoked).",
                               code="bad_token")
        user_id = session.get("user_id")
        if user_id:
            g.user = users.get(get_store(), user_id)
            if g.user:
                g.principal = {"kind": "user", "role": g.user["role"], "id": g.user["id"],
                               "name": g.user["username"]}
        # A cookie carries authority, so every unsafe request made with one must
        # prove it comes from our page. Anonymous API calls carry none: they
        # get their 401 from the endpoint instead.
        anonymous_api = g.user is None and request.path.startswith("/api/")
        if request.method in UNSAFE and request.endpoint not in CSRF_EXEMPT and not anonymous_api:
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            # Bytes: compare_digest raises on non-ASCII text, and anyone can send that.
            if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
                raise Forbidden("The form expired or came from another site; reload the page and try again.",
                                code="csrf_failed")


# Endpoints reached by machines with bearer tokens only (they carry no cookie to forge).
CSRF_EXEMPT: set[str] = set()


def csrf_exempt(view):
    CSRF_EXEMPT.add(f"{view.__module__.rsplit('.', 1)[-1]}.{view.__name__}")
    return view


def require(role: str = "trainer", *, kinds: tuple[str, ...] = ("user",)):
    """Let through callers of at least `role`; pages redirect to login, the API answers 401/403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = g.get("principal")
            if principal is None or principal["kind"] not in kinds:
                if request.path.startswith("/api/"):
                    raise Unauthorized("Sign in first.", code="login_required")
                return redirect(url_for("auth.login", next=request.full_path))
            if users.RANK.get(principal.get("role"), 0) < users.RANK[role]:
                raise Forbidden(_("Your account may not open this page."), code="role_forbidden")
            return view(*args, **kwargs)
        return wrapper
    return decorate


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        user = users.authenticate(get_store(), request.form.get("username", ""),
                                  request.form.get("password", ""))
        if user:
            session.clear()
            session["user_id"] = user["id"]
            csrf_token()
            target = request.args.get("next") or ""
            # Only local paths: never an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("admin.home") if user["role"] != "trainer" else url_for("kiosk.index")
            return redirect(target)
        error = _("Wrong username or password.")
    return render_template("login.html", error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
