"""The OpenAPI 3 document of the JSON variant, built from the route list and the field
tables the API itself runs on (so it cannot drift; a test compares it with Flask's routes)."""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from appliance import __version__
from appliance.api.routing import Operation, Route
from appliance.api.schema import Field, Kind, Type

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_FAULT = {"$ref": "#/components/schemas/fault"}


def document(routes: list[Route], types: dict[str, Type]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _PARAM.sub(r"{\1}", route.rule) or "/"
        operation = _operation(route, types)
        params = _PARAM.findall(route.rule)
        if params:
            operation["parameters"] = [{"name": p, "in": "path", "required": True,
                                        "schema": {"type": "string"}} for p in params]
        paths.setdefault(path, {})[route.operation.method.lower()] = operation
    schemas = {tag: _schema(t) for tag, t in sorted(types.items())}
    schemas["ref"] = {"type": "object", "properties": {"id": {"type": "string"},
                                                        "href": {"type": "string"}}}
    schemas["fault"] = {"type": "object", "properties": {"reason": {"type": "string"},
                                                          "detail": {"type": "string"}}}
    schemas["action"] = {"type": "object", "description": "An action's parameters and "
                         "outcome", "properties": {"status": {"type": "string"},
                                                   "job": {"$ref": "#/components/schemas/ref"},
                                                   "fault": _FAULT},
                         "additionalProperties": True}
    schemas["api"] = {"type": "object", "additionalProperties": True}
    return {
        "openapi": "3.0.3",
        "info": {"title": "VirtStick oVirt-compatible API", "version": __version__,
                 "description": "oVirt's v4 REST API, JSON variant (send Accept: "
                 "application/json). Numbers and booleans travel as strings, as oVirt's "
                 "JSON does. Authenticate with a bearer token from "
                 "/ovirt-engine/sso/oauth/token or HTTP Basic."},
        "servers": [{"url": "/ovirt-engine/api"}],
        "security": [{"bearer": []}, {"basic": []}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"}}},
    }


def collect_types(modules: list[ModuleType]) -> dict[str, Type]:
    found: dict[str, Type] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Type):
                found[value.tag] = value
    return found


def _operation(route: Route, types: dict[str, Type]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{route.tag}"}
    errors = {"default": {"description": "A fault", "content": _json(_FAULT)}}
    op: dict[str, Any] = {"summary": route.summary,
                          "operationId": f"{route.operation.value}{_camel(route.rule)}"}
    if route.operation is Operation.LIST:
        body = {"type": "object", "properties": {route.tag: {"type": "array", "items": ref}}}
        op["parameters"] = [{"name": n, "in": "query", "schema": {"type": "string"}}
                            for n in ("search", "max", "case_sensitive", "follow")]
        op["responses"] = {"200": {"description": "The collection", "content": _json(body)},
                           **errors}
    elif route.operation is Operation.GET:
        op["responses"] = {"200": {"description": "The object", "content": _json(ref)},
                           **errors}
    elif route.operation is Operation.ADD:
        op["requestBody"] = {"required": True, "content": _json(ref)}
        op["responses"] = {"201": {"description": "Created", "content": _json(ref)}, **errors}
    elif route.operation is Operation.REMOVE:
        op["responses"] = {"200": {"description": "Removed (empty body)"}, **errors}
    else:
        action = {"$ref": "#/components/schemas/action"}
        op["requestBody"] = {"required": False, "content": _json(action)}
        op["responses"] = {"200": {"description": "Done", "content": _json(action)}, **errors}
    if route.tag not in types and route.tag not in ("action", "api"):
        raise AssertionError(f"route {route.rule} names unknown type {route.tag}")
    return op


def _schema(type_: Type) -> dict[str, Any]:
    root: dict[str, Any] = {"type": "object", "description": type_.description,
                            "properties": {"id": {"type": "string", "readOnly": True},
                                           "href": {"type": "string", "readOnly": True}}}
    for field in type_.fields:
        node = root
        for part in field.parts[:-1]:
            node = node["properties"].setdefault(part, {"type": "object", "properties": {}})
        node["properties"][field.parts[-1]] = _field(field)
    if type_.links:
        root["properties"]["link"] = {"type": "array", "readOnly": True, "items": {
            "type": "object", "properties": {"rel": {"type": "string"},
                                             "href": {"type": "string"}}}}
    return root


def _field(field: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if field.kind is Kind.REF:
        schema = {"$ref": "#/components/schemas/ref"}
        return schema if field.writable else {"allOf": [schema], "readOnly": True}
    if field.kind is Kind.REFS:
        schema = {"type": "object", "properties": {field.item: {
            "type": "array", "items": {"$ref": "#/components/schemas/ref"}}}}
    elif field.kind is Kind.STRINGS:
        item: dict[str, Any] = {"type": "string"}
        if field.values:
            item["enum"] = list(field.values)
        schema = {"type": "object", "properties": {field.item: {"type": "array",
                                                                 "items": item}}}
    elif field.kind is Kind.INTEGER:
        schema = {"type": "string", "pattern": "^-?[0-9]+$", "description": "an integer"}
    elif field.kind is Kind.BOOLEAN:
        schema = {"type": "string", "enum": ["true", "false"]}
    elif field.kind is Kind.DATE:
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}
        if field.values:
            schema["enum"] = list(field.values)
    if not field.writable:
        schema["readOnly"] = True
    if field.get is None:
        schema["writeOnly"] = True
    return schema


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _camel(rule: str) -> str:
    words = re.split(r"[/_<>]+", _PARAM.sub(lambda m: "By" + m.group(1).title(), rule))
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Root"
