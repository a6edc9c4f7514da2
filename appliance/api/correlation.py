"""The request's ``correlation_id`` (query parameter or ``Correlation-Id`` header) for the
engine: every job begun while the request is served carries it, and an action that began
none (it did all its work at once) is recorded as one finished job, so
``jobs?search=correlation_id=X`` finds the jobs of any action sent with ``?correlation_id=X``.
"""

from __future__ import annotations

from flask import Blueprint, Response, g

from appliance.api import http
from appliance.api.routing import Operation
from appliance.engine import correlation

_CHANGES = (Operation.ADD, Operation.UPDATE, Operation.REMOVE, Operation.ACTION)


def install(blueprint: Blueprint) -> None:
    blueprint.before_request(_open)
    blueprint.after_request(_record)
    blueprint.teardown_request(_close)


def _open() -> None:
    wanted = http.correlation_id()
    if wanted:
        g.correlation_token = correlation.open_scope(wanted)


def _record(response: Response) -> Response:
    operation = g.get("api_operation")
    if response.status_code < 400 and operation in _CHANGES and "correlation_token" in g:
        http.engine().jobs.record_request(g.get("api_summary", "Request"),
                                          owner=http.actor().name)
    return response


def _close(_error: BaseException | None) -> None:
    token = g.pop("correlation_token", None)
    if token is not None:
        correlation.close_scope(token)
