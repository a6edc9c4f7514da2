"""Who is logged in to the portals, and the CSRF token of their session.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure when the page came over
HTTPS): it holds an engine session
token (the API's: it dies after the idle time and at logout, so a copied cookie is worthless
once its owner logs out) and the CSRF token every form and every JSON POST must echo.
Roles are checked by the engine; the portals only decide which pages to offer.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.errors import NotAuthenticated, PermissionDenied, VirtStickError

COOKIE_NAME = "virtstick_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

F = TypeVar("F", bound=Callable[..., Any])


class CsrfRefused(VirtStickError):
    status = 403
    code = "csrf-refused"
    reason = "Forbidden"


class TransportSessionInterface(SecureCookieSessionInterface):
    """The cookie is Secure when the request came over HTTPS (the TLS front says so), so a
    browser never sends it back over plain HTTP; localhost's plain HTTP keeps a plain one."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def engine() -> Engine:
    return cast(Engine, current_app.extensions["engine"])


def log_in(actor: Actor) -> None:
    session.clear()  # a new session at login: nothing an attacker planted survives
    session.permanent = True
    session["token"] = engine().users.issue_token(actor)
    session["since"] = time.time()
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def log_out() -> None:
    token = session.get("token")
    if token:
        engine().users.revoke(str(token))
    session.clear()


def current_actor() -> Actor | None:
    """The session's user as the engine sees them now (roles and permissions read afresh,
    so a removed user or a revoked role takes effect at the next request)."""
    if "actor" not in g:
        g.actor = actor_from_session(engine(), session, address=request.remote_addr or "")
    found: Actor | None = g.actor
    return found


def actor_from_session(source: Engine, data: Any, *, address: str) -> Actor | None:
    if not data or "token" not in data:
        return None
    try:
        return source.users.actor_for_token(str(data["token"]), address=address)
    except NotAuthenticated:
        return None


def actor() -> Actor:
    """The logged-in user of a view that requires one (see ``login_required``)."""
    found = current_actor()
    if found is None:
        raise PermissionDenied("Log in first.")
    return found


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Every state-changing request carries the session's token, in the form or a header."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfRefused("The form's security token is missing or stale: reload the page "
                          "and try again.")


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            if request.path.endswith(".json"):
                raise NotAuthenticated("Log in first.")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return cast(F, wrapper)


def admin_required(view: F) -> F:
    """Admin Portal pages: a user without an admin role goes to the User Portal."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = current_actor()
        if who is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not who.superuser:
            return redirect(url_for("user.index"))
        return view(*args, **kwargs)
    return cast(F, wrapper)


def session_reader(app: Any) -> Callable[[str], dict[str, Any] | None]:
    """Reads a session cookie outside a request (the console proxy's WebSocket)."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    max_age = int(app.permanent_session_lifetime.total_seconds())

    def read(cookie: str) -> dict[str, Any] | None:
        if serializer is None:
            return None
        try:
            return cast(dict[str, Any], serializer.loads(cookie, max_age=max_age))
        except Exception:  # any bad, forged or old cookie: no session
            return None
    return read
