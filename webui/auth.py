"""Login, logout and the portal's front door (the Admin or the User Portal by role)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from appliance.engine.authz import Actor
from appliance.errors import NotAuthenticated, TooManyAttempts
from webui import live
from webui import session as portal_session
from webui.blueprint import portal_blueprint
from webui.session import current_actor, engine

blueprint = portal_blueprint("auth", __name__, assets=True)


@blueprint.get("/")
def index() -> Response:
    who = current_actor()
    if who is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.dashboard" if who.superuser else "user.index"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        if current_actor() is not None and target:
            return redirect(target)
        return render_template("login.html", next=target, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        who = authenticate(username, password, address=request.remote_addr or "")
    except (NotAuthenticated, TooManyAttempts) as exc:
        flash(exc.detail, "error")
        return render_template("login.html", next=target, username=username), exc.status
    portal_session.log_in(who)
    if target:
        return redirect(target)
    return redirect(url_for("admin.dashboard" if who.superuser else "user.index"))


@blueprint.post("/logout")
def logout() -> Response:
    token = session.get("token")
    portal_session.log_out()
    if token:
        live.end_session(str(token))
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


def authenticate(username: str, password: str, *, address: str) -> Actor:
    """The engine's user directory decides, with its throttling of repeated failures."""
    return engine().users.authenticate(username, password, address=address)


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect to somewhere else, nor a header
    split by a CR or LF (nor a backslash, which browsers read as a slash: "/\\evil")."""
    if len(target) > 2000 or any(c < " " or c in "\x7f\\" for c in target):
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    return target
