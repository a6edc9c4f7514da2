"""oVirt's two wire formats over one tree: XML (the default, what the SDK speaks) and JSON.

A ``Node`` is a dict whose values are strings, nested nodes, or lists of either; ``id``,
``href`` and ``rel`` are XML attributes, every other key a child element, and a list repeats
its element. Bodies are parsed with defusedxml: no DTD, so no entity expansion and no
external entities, and never more than ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from appliance.errors import InvalidInput, PayloadTooLarge

Node = dict[str, Any]
ATTRIBUTES = frozenset({"id", "href", "rel"})
MAX_BODY = 1024 * 1024
# oVirt's deepest documents nest a handful of levels (vm/disk_attachments/disk_attachment/
# disk/storage_domains/storage_domain); far deeper is an attack on the parser's recursion.
MAX_DEPTH = 32
XML_TYPE = "application/xml;charset=UTF-8"
JSON_TYPE = "application/json;charset=UTF-8"


def to_xml(tag: str, node: Node) -> str:
    parts: list[str] = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n']
    _write(parts, tag, node)
    return "".join(parts)


def collection_to_xml(plural: str, tag: str, nodes: list[Node]) -> str:
    parts: list[str] = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
                        f"<{plural}>"]
    for node in nodes:
        _write(parts, tag, node)
    parts.append(f"</{plural}>")
    return "".join(parts)


def to_json(node: Node) -> str:
    return json.dumps(node, separators=(",", ":"))


def collection_to_json(tag: str, nodes: list[Node]) -> str:
    return json.dumps({tag: nodes} if nodes else {}, separators=(",", ":"))


def collection_of_xml(plural: str, elements: list[str]) -> str:
    """A collection from elements already written (``Type.xml``)."""
    return "".join(['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
                    f"<{plural}>", *elements, f"</{plural}>"])


def write_xml(parts: list[str], tag: str, value: Any) -> None:
    _write(parts, tag, value)


def _write(parts: list[str], tag: str, value: Any) -> None:
    if isinstance(value, str):
        text = escape(value) if ("&" in value or "<" in value or ">" in value) else value
        parts.append(f"<{tag}>{text}</{tag}>")
        return
    if isinstance(value, list):
        for item in value:
            _write(parts, tag, item)
        return
    if not isinstance(value, dict):
        parts.append(f"<{tag}>{escape(str(value))}</{tag}>")
        return
    attributes = "".join(f" {k}={quoteattr(str(v))}" for k, v in value.items()
                         if k in ATTRIBUTES)
    children = [(k, v) for k, v in value.items() if k not in ATTRIBUTES]
    if not children:
        parts.append(f"<{tag}{attributes}/>")
        return
    parts.append(f"<{tag}{attributes}>")
    for key, child in children:
        _write(parts, key, child)
    parts.append(f"</{tag}>")


def parse_body(body: bytes, *, content_type: str, expected: str) -> Node:
    """The request body as a node; its root must be ``<expected>`` (XML) or an object (JSON)."""
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"The request body has {len(body)} bytes; the limit is "
                              f"{MAX_BODY} bytes.")
    if not body.strip():
        raise InvalidInput(f"The request needs a <{expected}> body.")
    if "json" in content_type.lower():
        return _parse_json(body, expected)
    return _parse_xml(body, expected)


def _parse_xml(body: bytes, expected: str) -> Node:
    try:
        root = SafeElementTree.fromstring(body, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden,
            defusedxml.ExternalReferenceForbidden, defusedxml.NotSupportedError):
        raise InvalidInput("The XML document declares a DTD or entities, which are not "
                           "accepted: send plain XML.") from None
    except ParseError as exc:
        raise InvalidInput(f"The request body is not well-formed XML ({exc}).") from None
    except UnicodeDecodeError:
        raise InvalidInput("The request body is not valid UTF-8.") from None
    if root.tag != expected:
        raise InvalidInput(f"Expected a <{expected}> element, got <{_printable(root.tag)}>.")
    node = _element(root, 1)
    return node if isinstance(node, dict) else {}


def _element(element: Element, depth: int) -> Node | str:
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    if depth >= MAX_DEPTH:
        raise _too_deep()
    node: Node = {k: v for k, v in element.attrib.items() if k in ATTRIBUTES}
    for child in children:
        value = _element(child, depth + 1)
        if child.tag in node:
            existing = node[child.tag]
            node[child.tag] = [*existing, value] if isinstance(existing, list) else [existing,
                                                                                     value]
        else:
            node[child.tag] = value
    return node


def _parse_json(body: bytes, expected: str) -> Node:
    try:
        data = json.loads(body)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The request body is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"Expected a JSON object for a {expected}.")
    if set(data) == {expected} and isinstance(data[expected], dict):
        data = data[expected]  # also accept {"vm": {...}}
    result = _json_value(data, 1)
    assert isinstance(result, dict)
    return result


def _json_value(value: Any, depth: int) -> Any:
    """JSON scalars become strings, as XML text is, so one reader handles both."""
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, dict):
        return {str(k): _json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v, depth + 1) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _too_deep() -> InvalidInput:
    return InvalidInput(f"The request body nests deeper than {MAX_DEPTH} levels; oVirt's "
                        "documents need far fewer.")


def _printable(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")[:60]
