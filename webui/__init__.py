"""The portals: Admin Portal, User Portal, login and the in-browser console, as Flask
blueprints over the engine's services (in-process, never through the REST API)."""

from __future__ import annotations

import logging
import secrets
import ssl
from datetime import timedelta

from flask import Blueprint, Flask

from appliance.engine.engine import Engine
from appliance.engine.validation import human_size
from appliance.security import certificates
from webui import admin, auth, console, live, status, userportal
from webui.console_proxy import ConsoleProxy
from webui.session import COOKIE_NAME, csrf_token, current_actor, session_reader
from webui.vm_actions import ACTIONS, vm_can
from webui.words import words

log = logging.getLogger(__name__)

# Registered in this order (appliance.web.routes); the Admin Portal's pages are nested in
# admin.blueprint.
BLUEPRINTS: tuple[Blueprint, ...] = (auth.blueprint, admin.blueprint, userportal.blueprint,
                                     console.blueprint, status.blueprint, live.blueprint)


def attach(app: Flask, engine: Engine) -> None:
    """The portals' settings, template helpers and live updates on an app with their routes."""
    # A new key each start: a restart logs everyone out, and nothing secret is stored.
    app.secret_key = app.secret_key or secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=max(engine.config.auth.token_idle_minutes,
                                                         5)),
        SESSION_REFRESH_EACH_REQUEST=True,
    )
    app.jinja_env.filters["size"] = human_size
    app.jinja_env.filters["words"] = words
    app.jinja_env.globals.update(csrf_token=csrf_token, current_actor=current_actor,
                                  vm_can=vm_can, vm_actions=ACTIONS)
    live.start(app, engine)


def stop(app: Flask) -> None:
    """Before the engine stops: the pages' live streams end (they reconnect later)."""
    pump = app.extensions.get(live.PUMP_EXTENSION)
    if pump is not None:
        pump.stop()


def start_console_proxy(app: Flask, engine: Engine) -> list[ConsoleProxy]:
    """The WebSocket side of the console on its own port: plain for pages served over HTTP,
    and, when the service speaks HTTPS, a TLS one with the service's certificate (a page
    served over HTTPS may only open wss://)."""
    http = engine.config.http
    proxies = []
    if http.console_listen:
        proxies += _proxy(app, engine, http.console_listen, console.PROXY_EXTENSION, None)
    if http.https_listen and http.console_tls_listen:
        host = http.https_listen.rpartition(":")[0].strip("[]")
        found = certificates.ensure(engine.config.appliance.state_dir, names=(host,))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(found.cert, found.key)
        proxies += _proxy(app, engine, http.console_tls_listen, console.TLS_PROXY_EXTENSION,
                          context)
    return proxies


def _proxy(app: Flask, engine: Engine, listen: str, extension: str,
           tls: ssl.SSLContext | None) -> list[ConsoleProxy]:
    try:
        proxy = ConsoleProxy(engine, read_session=session_reader(app), listen=listen, tls=tls)
    except OSError as exc:
        # The portals and the API still serve; only the in-browser console is missing.
        log.error("the console proxy cannot listen on %s (%s): in-browser consoles are off",
                  listen, exc)
        return []
    app.extensions[extension] = proxy.start().port
    return [proxy]
