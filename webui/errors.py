"""One place renders the portals' errors: a page for people, JSON for the pages' scripts."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from appliance.errors import VirtStickError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def render_error(exc: Exception) -> tuple[Response | str, int]:
    if isinstance(exc, VirtStickError):
        status, code, reason, detail = exc.status, exc.code, exc.reason, exc.detail
    elif isinstance(exc, HTTPException):
        status, code = exc.code or 500, "http-error"
        reason, detail = exc.name, exc.description or exc.name
    else:
        log.exception("unexpected error in %s %s", request.method, request.path)
        status, code, reason = 500, "internal", "Internal error"
        detail = "Something went wrong inside VirtStick; the log has the details."
    if wants_json():
        return jsonify(code=code, reason=reason, detail=detail), status
    return render_template("error.html", status=status, reason=reason, detail=detail), status
