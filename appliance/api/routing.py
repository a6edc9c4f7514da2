"""The API's routes as data: each view is registered with its operation and type, so the
OpenAPI document is built from the same list Flask routes by (and a test compares them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flask import Blueprint, g
from flask.typing import ResponseReturnValue

View = Callable[..., ResponseReturnValue]


class Operation(StrEnum):
    LIST = "list"
    GET = "get"
    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"
    ACTION = "action"

    @property
    def method(self) -> str:
        return {"list": "GET", "get": "GET", "add": "POST", "update": "PUT",
                "remove": "DELETE", "action": "POST"}[self.value]


@dataclass(frozen=True)
class Route:
    rule: str  # under /ovirt-engine/api, Flask syntax: "/vms/<vm_id>/start"
    operation: Operation
    tag: str  # the type answered (or sent, for add): "vm"; "action" for actions
    summary: str


class Routes:
    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.routes: list[Route] = []

    def add(self, rule: str, operation: Operation, *, tag: str,
            summary: str) -> Callable[[View], View]:
        def register(view: View) -> View:
            endpoint = f"{operation.value}:{rule}"

            def wrapped(**kwargs: str) -> ResponseReturnValue:
                g.api_operation = operation  # faults of actions take the <action> form
                g.api_summary = summary  # names the job of a correlated request
                return view(**kwargs)

            self.blueprint.add_url_rule(rule, endpoint=endpoint, view_func=wrapped,
                                        methods=[operation.method])
            self.routes.append(Route(rule, operation, tag, summary))
            return view

        return register
