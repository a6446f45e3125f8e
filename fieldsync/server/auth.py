"""Accounts and who may do what: login, roles, CSRF, and bearer tokens for machines.

People sign in with a password and get a signed session cookie (HttpOnly,
SameSite=Lax). Every state-changing request made with that cookie must carry
the CSRF token, as a form field or an X-CSRF-Token header. The cookie also
carries the account's session epoch: signing out, a new password or disabling
the account moves the epoch on and ends every copy of every cookie at once.
Sign-in is throttled per user name and per client address (records/sign_in.py).
Machines (stations,
town nodes) send `Authorization: Bearer`; the areas that issue tokens register
a resolver here, so each endpoint asks one question: who is calling?
"""

from __future__ import annotations

import hmac
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from fieldsync.errors import FieldsyncError, Forbidden, Unauthorized
from fieldsync.records import scope, sign_in, users
from fieldsync.server.errors import render, wants_json
from fieldsync.server.extensions import bearer_resolvers, get_store

bp = Blueprint("auth", __name__)

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
KIOSK_CALLERS = ("user", "station")   # who scans badges: signed-in people and joined phone stations


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.teardown_request
    def _forget_units(_exc):
        scope.clear()

    @app.before_request
    def _load_principal():
        g.user = None
        g.principal = None
        scope.set_units(get_store(), None)  # until an account with units is found below
        token = _bearer()
        if token:
            for resolve in bearer_resolvers():
                principal = resolve(token)
                if principal:
                    g.principal = principal
                    return
            raise Unauthorized(code="bad_token")
        user_id = session.get("user_id")
        if user_id:
            user = users.get(get_store(), user_id)
            if user and session.get("epoch") == user["session_epoch"]:
                g.user = user
                g.principal = {"kind": "user", "role": user["role"], "id": user["id"], "name": user["username"]}
                scope.set_units(get_store(), user["units"])
            else:  # signed out elsewhere, a new password, or disabled: this cookie is done
                session.clear()
        # A cookie carries authority, so every unsafe request made with one must
        # prove it comes from our page. Anonymous API calls carry none: they
        # get their 401 from the endpoint instead.
        anonymous_api = g.user is None and request.path.startswith("/api/")
        if request.method in UNSAFE and not anonymous_api:
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            # Bytes: compare_digest raises on non-ASCII text, and anyone can send that.
            if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
                raise Forbidden(code="csrf_failed")


def require(role: str = "trainer", *, kinds: tuple[str, ...] = ("user",)):
    """Let through callers of at least `role`; pages redirect to login, the API answers 401/403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = g.get("principal")
            if principal is None or principal["kind"] not in kinds:
                if request.path.startswith("/api/"):
                    raise Unauthorized(code="login_required")
                return redirect(url_for("auth.login", next=request.full_path))
            if users.RANK.get(principal.get("role"), 0) < users.RANK[role]:
                raise Forbidden(_("Your account may not open this page."), code="role_forbidden")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def actor() -> str | None:
    """Who is acting, as the history names them: the account's user name, a station's or a
    node's name; None for an anonymous caller."""
    return (g.get("principal") or {}).get("name")


def client_address() -> str:
    """Who is calling, by network address. Behind our TLS front waitress sees the front's loopback
    connection; the front itself says whose connection that is (tls.TLSFront.client_of), so no
    header a client sends (X-Forwarded-For and the like) is ever believed."""
    front = current_app.extensions.get("fieldsync.tls_front")
    behind = front(request.environ.get("REMOTE_ADDR"), request.environ.get("REMOTE_PORT")) if front else None
    return behind or request.remote_addr or ""


def local_target(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: never an open redirect. Browsers drop tabs
    and newlines and read a backslash as a slash, so ?next=/%09/evil.example/ would leave the site."""
    target = (target or "").strip()
    if not target or any(ord(ch) < 0x21 or ord(ch) > 0x7E or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", error=None)
    store, name = get_store(), request.form.get("username", "")
    attempt = sign_in.keys(name, client_address())
    wait = sign_in.seconds_to_wait(store, attempt)
    if wait:
        return _too_many(wait)
    user = users.authenticate(store, name, request.form.get("password", ""))
    if user is None:
        sign_in.failed(store, attempt)
        return render_template("login.html", error=_("Wrong username or password.")), 401
    sign_in.succeeded(store, attempt)
    session.clear()
    session["user_id"] = user["id"]
    session["epoch"] = user["session_epoch"]
    csrf_token()
    home = url_for("admin.home") if user["role"] != "trainer" else url_for("kiosk.index")
    return redirect(local_target(request.args.get("next")) or home)


def _too_many(wait: int):
    message = _("Too many wrong passwords. Wait %(minutes)s minute(s), then try again.",
                minutes=-(-wait // 60))
    if wants_json():
        response = current_app.make_response(render(FieldsyncError(message, code="too_many_attempts")))
    else:
        response = current_app.make_response((render_template("login.html", error=message), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    if g.get("user"):
        users.end_sessions(get_store(), g.user["id"])
    session.clear()
    return redirect(url_for("auth.login"))
