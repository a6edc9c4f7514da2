"""Every portal blueprint is made here, so each checks CSRF, renders errors the same way and
says how long the server took (``Server-Timing``, shown by browsers' developer tools)."""

from __future__ import annotations

import time

from flask import Blueprint, g
from werkzeug.wrappers import Response

from webui.errors import render_error
from webui.session import check_csrf


def portal_blueprint(name: str, import_name: str, *, url_prefix: str | None = None,
                     assets: bool = False) -> Blueprint:
    """``assets``: this blueprint serves webui/static at /assets (the auth one does)."""
    blueprint = Blueprint(name, "webui", url_prefix=url_prefix, template_folder="templates",
                          static_folder="static" if assets else None,
                          static_url_path="/assets" if assets else None)
    blueprint.before_request(_start_clock)
    blueprint.before_request(check_csrf)
    blueprint.after_request(_server_timing)
    blueprint.register_error_handler(Exception, render_error)
    return blueprint


def _start_clock() -> None:
    g.started = time.perf_counter()


def _server_timing(response: Response) -> Response:
    started = g.get("started")
    if started is not None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
    return response
