"""What every API view shares: the engine and actor of the request, content negotiation,
reading bodies through a type's table, and answering objects, lists and actions."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request

from appliance.api import representation
from appliance.api.ovirtnames import ACTION
from appliance.api.representation import Node
from appliance.api.schema import API, Type, ref
from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.model import Job
from appliance.errors import InvalidInput, PayloadTooLarge


def engine() -> Engine:
    found: Engine = current_app.extensions["engine"]
    return found


def actor() -> Actor:
    found: Actor = g.actor
    return found


def wants_json() -> bool:
    accept = request.headers.get("Accept", "")
    return "json" in accept and "xml" not in accept


def correlation_id() -> str:
    value = request.args.get("correlation_id") or request.headers.get("Correlation-Id", "")
    return value[:200]


def body() -> bytes:
    length = request.content_length
    if length is not None and length > representation.MAX_BODY:
        raise PayloadTooLarge(f"The request body has {length} bytes; the limit is "
                              f"{representation.MAX_BODY} bytes.")
    data: bytes = request.stream.read(representation.MAX_BODY + 1)
    return data


def read(type_: Type) -> dict[str, Any]:
    """The writable fields of the body, which must be one ``type_`` element."""
    node = representation.parse_body(body(), content_type=request.content_type or "",
                                      expected=type_.tag)
    return type_.read(node)


def read_node(tag: str, *, required: bool = True) -> Node:
    data = body()
    if not data.strip() and not required:
        return {}
    return representation.parse_body(data, content_type=request.content_type or "",
                                     expected=tag)


def respond(tag: str, node: Node, *, status: int = 200,
            location: str | None = None) -> Response:
    if wants_json():
        response = Response(representation.to_json(node), status=status,
                            content_type=representation.JSON_TYPE)
    else:
        response = Response(representation.to_xml(tag, node), status=status,
                            content_type=representation.XML_TYPE)
    if location is not None:
        response.headers["Location"] = location
    return response


def respond_object(type_: Type, obj: Any, *, status: int = 200, href: str | None = None,
                   created: bool = False) -> Response:
    node = type_.render(obj, href=href)
    return respond(type_.tag, node, status=201 if created else status,
                   location=node.get("href") if created else None)


def respond_list(type_: Type, nodes: list[Node]) -> Response:
    if wants_json():
        text = representation.collection_to_json(type_.tag, nodes)
        return Response(text, content_type=representation.JSON_TYPE)
    text = representation.collection_to_xml(type_.collection, type_.tag, nodes)
    return Response(text, content_type=representation.XML_TYPE)


def respond_xml_elements(type_: Type, elements: list[str]) -> Response:
    text = representation.collection_of_xml(type_.collection, elements)
    return Response(text, content_type=representation.XML_TYPE)


def respond_action(job: Job | None = None, **extra: Node | str) -> Response:
    node: Node = {}
    if job is not None:
        node["job"] = ref("jobs", job.id)
    node.update(extra)
    node["status"] = "complete"
    return respond("action", node)


def query_flag(name: str, default: bool = False) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false", "1", "0", ""):
        raise InvalidInput(f"The {name} parameter must be true or false, not '{value[:40]}'.")
    return value.lower() in ("true", "1", "")


def query_int(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"The {name} parameter must be a whole number, "
                           f"not '{value[:40]}'.") from None
    if number < -1:
        raise InvalidInput(f"The {name} parameter must be -1 (no limit) or more.")
    return number


def href(*parts: str) -> str:
    return "/".join((API, *parts))


def read_action() -> Node:
    """An action's body (``<action/>``, possibly empty); unknown elements are refused."""
    node = read_node("action", required=False)
    for key in node:
        if key not in ACTION and key not in ("id", "href", "link"):
            raise InvalidInput(f"<action> has no element <{key[:40]}>.")
    return node


def flag(node: Node, name: str, default: bool) -> bool:
    """A boolean element of a body (``<succeeded>true</succeeded>``), ``default`` if absent."""
    value = node.get(name)
    if value is None or value == "":
        return default
    text = str(value).lower() if isinstance(value, str | bool) else ""
    if text not in ("true", "false", "1", "0"):
        raise InvalidInput(f"<{name[:40]}> must be true or false.")
    return text in ("true", "1")
