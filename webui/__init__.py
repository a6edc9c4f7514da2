"""The portals: Admin Portal, User Portal, login and the in-browser console, as Flask
blueprints over the engine's services (in-process, never through the REST API)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, Flask

from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.validation import human_size
from webui import admin_inventory, admin_monitoring, admin_vms, auth, console, status, userportal
from webui.console_proxy import ConsoleProxy
from webui.session import COOKIE_NAME, csrf_token, current_actor, session_reader

BLUEPRINTS: tuple[Blueprint, ...] = (auth.blueprint, admin_vms.blueprint, userportal.blueprint,
                                     console.blueprint, status.blueprint)
assert admin_inventory and admin_monitoring  # their views join the admin blueprint on import


def register(app: Flask, engine: Engine) -> None:
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
    app.jinja_env.globals.update(csrf_token=csrf_token, current_actor=current_actor,
                                  vm_can=vm_can)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def vm_can(status: str, when: str) -> bool:
    """Whether an action that needs the VM ``when`` (down, up, paused, running) applies now;
    portal.js applies the same rule as the status changes."""
    if when == "running":
        return VmStatus(status).is_running
    return status == when


def start_console_proxy(app: Flask, engine: Engine) -> ConsoleProxy | None:
    """The WebSocket side of the console, on its own port; None when configured off."""
    listen = engine.config.http.console_listen
    if not listen:
        return None
    proxy = ConsoleProxy(engine, read_session=session_reader(app),
                         listen=listen).start()
    app.extensions[console.PROXY_EXTENSION] = proxy.port
    return proxy
