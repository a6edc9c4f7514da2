"""Every portal blueprint is made here, so each checks CSRF and renders errors the same way."""

from __future__ import annotations

from flask import Blueprint

from webui.errors import render_error
from webui.session import check_csrf


def portal_blueprint(name: str, import_name: str, *, url_prefix: str | None = None,
                     assets: bool = False) -> Blueprint:
    """``assets``: this blueprint serves webui/static at /assets (the auth one does)."""
    blueprint = Blueprint(name, "webui", url_prefix=url_prefix, template_folder="templates",
                          static_folder="static" if assets else None,
                          static_url_path="/assets" if assets else None)
    blueprint.before_request(check_csrf)
    blueprint.register_error_handler(Exception, render_error)
    return blueprint
