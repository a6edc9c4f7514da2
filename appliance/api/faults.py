"""The one place API errors are rendered: every failure becomes oVirt's
``<fault><reason/><detail/></fault>`` with its status; a failed action answers
``<action><fault/><status>failed</status></action>`` as oVirt does."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from appliance.api import http
from appliance.api.routing import Operation
from appliance.errors import VirtStickError

log = logging.getLogger(__name__)

PREFIX = "/ovirt-engine/api"


def install(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(VirtStickError, _virtstick_error)

    blueprint.register_error_handler(Exception, _unexpected)
    # Unknown URLs under the API match no blueprint view: the app-wide handler answers them.
    blueprint.app_errorhandler(HTTPException)(_http_error)


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if not request.path.startswith(PREFIX):
        return exc  # another blueprint's page: its own error rendering
    detail = {
        404: f"There is no resource at {request.path[:200]}.",
        405: f"{request.method} is not allowed on {request.path[:200]}.",
        413: "The request body is too large.",
    }.get(exc.code or 500, exc.description or "")
    response = fault(exc.code or 500, exc.name, detail)
    allow = exc.get_response().headers.get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


def _unexpected(exc: Exception) -> Response | HTTPException:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unexpected error in %s %s", request.method, request.path)
    return fault(500, "Internal error", "The service failed unexpectedly; the details are in "
                 "its log.")


def _virtstick_error(exc: VirtStickError) -> Response:
    return fault(exc.status, exc.reason, exc.detail)


def fault(status: int, reason: str, detail: str) -> Response:
    body = {"reason": reason, "detail": detail}
    if getattr(g, "api_operation", None) is Operation.ACTION:
        response = http.respond("action", {"fault": body, "status": "failed"}, status=status)
    else:
        response = http.respond("fault", body, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="VirtStick", Basic realm="VirtStick"'
    return response
