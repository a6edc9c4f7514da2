"""Declarative field tables: one per API type, mapping model objects to oVirt's elements.

A table renders objects (XML and JSON share the tree), reads request bodies with type checks
and clear messages, and describes the type in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from appliance.api.representation import Node, write_xml
from appliance.errors import InvalidInput

API = "/ovirt-engine/api"


class Kind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    REF = "ref"  # a link to another object: id and href, or id/name on input
    STRINGS = "strings"  # a list of strings: <devices><device>hd</device></devices>
    REFS = "refs"  # a list of links: <hosts><host id="..."/></hosts>, id or name on input


@dataclass(frozen=True)
class Field:
    path: str  # element path: "cpu/topology/sockets"
    kind: Kind = Kind.STRING
    get: Callable[[Any], Any] | None = None  # None: write-only
    writable: bool = False
    ref: str = ""  # REF, REFS: the collection the ids point into ("clusters")
    values: tuple[str, ...] = ()  # allowed values of an enumerated string
    item: str = ""  # STRINGS, REFS: the element of one item
    detail: bool = False  # constant or costly: in lists only with all_content=true

    @property
    def parts(self) -> list[str]:
        return self.path.split("/")


@dataclass(frozen=True)
class Type:
    tag: str
    plural: str
    fields: tuple[Field, ...]
    links: tuple[str, ...] = ()  # sub-collections, as <link rel=.../>
    accepted: frozenset[str] = field(default_factory=frozenset)  # oVirt elements we ignore
    description: str = ""
    list_tag: str = ""  # the collection's element when not tag + "s"

    @property
    def collection(self) -> str:
        if self.list_tag:
            return self.list_tag
        return f"{self.tag[:-1]}ies" if self.tag.endswith("y") else f"{self.tag}s"

    def render(self, obj: Any, *, href: str | None = None, detail: bool = True) -> Node:
        node: Node = {}
        object_id = getattr(obj, "id", None)
        if href is None and object_id is not None:
            href = f"{API}/{self.plural}/{object_id}"
        if href is not None:
            node["href"] = href
        if object_id is not None:
            node["id"] = str(object_id)
        for f, value in self._values(obj, detail):
            _put(node, f.parts, value)
        if self.links and href is not None:
            node["link"] = [{"href": f"{href}/{rel}", "rel": rel} for rel in self.links]
        return node

    def xml(self, obj: Any, *, detail: bool = True) -> str:
        """The object as one XML element, written straight from the table: lists of
        hundreds of objects are rendered without building trees."""
        href = f"{API}/{self.plural}/{obj.id}"
        parts = [f'<{self.tag} href="{href}" id="{obj.id}">']
        open_: tuple[str, ...] = ()
        for f, parents, leaf in _plan(self, detail):
            value = f.get(obj)  # type: ignore[misc]
            if value is None:
                continue
            text = _leaf_xml(f, leaf, value)
            if text is None:
                continue
            if parents != open_:
                common = 0
                while (common < min(len(open_), len(parents))
                       and open_[common] == parents[common]):
                    common += 1
                parts.extend(f"</{p}>" for p in reversed(open_[common:]))
                parts.extend(f"<{p}>" for p in parents[common:])
                open_ = parents
            parts.append(text)
        parts.extend(f"</{p}>" for p in reversed(open_))
        parts.extend(f'<link href="{href}/{rel}" rel="{rel}"/>' for rel in self.links)
        parts.append(f"</{self.tag}>")
        return "".join(parts)

    def _values(self, obj: Any, detail: bool) -> Iterator[tuple[Field, Any]]:
        for f in self.fields:
            if f.get is None or (f.detail and not detail):
                continue
            value = f.get(obj)
            if value is not None:
                value = _render_value(f, value)
            if value is not None:
                yield f, value

    def read(self, node: Node) -> dict[str, Any]:
        """Writable fields present in ``node``, by path, converted; unknown elements fail."""
        known = {f.parts[0] for f in self.fields} | self.accepted | {"id", "href", "link"}
        for key in node:
            if key not in known:
                raise InvalidInput(f"<{self.tag}> has no element <{_printable(key)}>.")
        values: dict[str, Any] = {}
        for f in self.fields:
            if not f.writable:
                continue
            raw = _lookup(node, f.parts)
            if raw is not None:
                values[f.path] = _read_value(f, raw, self.tag)
        return values


@cache
def _plan(type_: Type, detail: bool) -> tuple[tuple[Field, tuple[str, ...], str], ...]:
    return tuple((f, tuple(f.parts[:-1]), f.parts[-1]) for f in type_.fields
                 if f.get is not None and (detail or not f.detail))


def _leaf_xml(f: Field, leaf: str, value: Any) -> str | None:
    """One field's element, as ``_render_value`` and ``write_xml`` together would write it."""
    kind = f.kind
    if kind is Kind.STRING:
        text = str(value)
        return f"<{leaf}>{_escape(text)}</{leaf}>"
    if kind is Kind.INTEGER:
        return f"<{leaf}>{int(value)}</{leaf}>"
    if kind is Kind.BOOLEAN:
        return f"<{leaf}>{'true' if value else 'false'}</{leaf}>"
    if kind is Kind.REF and isinstance(value, str):
        return f'<{leaf} href="{API}/{f.ref}/{_escape(value)}" id="{_escape(value)}"/>'
    rendered = _render_value(f, value)
    if rendered is None:
        return None
    parts: list[str] = []
    write_xml(parts, leaf, rendered)
    return "".join(parts)


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
            '"', "&quot;")
    return text


def ref(collection: str, object_id: str | None) -> Node | None:
    if object_id is None:
        return None
    return {"href": f"{API}/{collection}/{object_id}", "id": object_id}


def iso_time(seconds: float) -> str | None:
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _render_value(f: Field, value: Any) -> Any:
    if f.kind is Kind.BOOLEAN:
        return "true" if value else "false"
    if f.kind is Kind.INTEGER:
        return str(int(value))
    if f.kind is Kind.DATE:
        return iso_time(float(value)) if isinstance(value, int | float) else str(value)
    if f.kind is Kind.REF:
        return value if isinstance(value, dict) else ref(f.ref, str(value))
    if f.kind is Kind.STRINGS:
        return {f.item: [str(v) for v in value]}
    if f.kind is Kind.REFS:
        return {f.item: [ref(f.ref, str(v)) for v in value]} if value else None
    return str(value)


def _put(node: Node, parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _lookup(node: Node, parts: list[str]) -> Any:
    current: Any = node
    for part in parts:
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _read_value(f: Field, raw: Any, tag: str) -> Any:
    where = f"<{tag}><{f.path.replace('/', '><')}>"
    if f.kind is Kind.REF:
        if not isinstance(raw, dict) or not (raw.get("id") or raw.get("name")):
            raise InvalidInput(f"{where} needs an id attribute or a <name>.")
        return {"id": _text(raw.get("id"), where), "name": _text(raw.get("name"), where)}
    if f.kind is Kind.STRINGS:
        items = raw.get(f.item, []) if isinstance(raw, dict) else []
        items = items if isinstance(items, list) else [items]
        return tuple(_check_value(f, _text(i, where), where) for i in items)
    if f.kind is Kind.REFS:
        items = raw.get(f.item, []) if isinstance(raw, dict) else []
        items = items if isinstance(items, list) else [items]
        refs = []
        for item in items:
            if not isinstance(item, dict) or not (item.get("id") or item.get("name")):
                raise InvalidInput(f"{where}<{f.item}> needs an id attribute or a <name>.")
            refs.append({"id": _text(item.get("id"), where),
                         "name": _text(item.get("name"), where)})
        return tuple(refs)
    text = _text(raw, where)
    if f.kind is Kind.INTEGER:
        try:
            return int(text)
        except ValueError:
            raise InvalidInput(f"{where} must be a whole number, "
                               f"not '{_printable(text)}'.") from None
    if f.kind is Kind.BOOLEAN:
        if text.lower() not in ("true", "false", "1", "0"):
            raise InvalidInput(f"{where} must be true or false, not '{_printable(text)}'.")
        return text.lower() in ("true", "1")
    return _check_value(f, text, where)


def _check_value(f: Field, text: str, where: str) -> str:
    if f.values and text not in f.values:
        raise InvalidInput(f"{where} must be one of {', '.join(f.values)}, not "
                           f"'{_printable(text)}'.")
    return text


def _text(raw: Any, where: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(f"{where} must hold a plain value, not nested elements.")
    return raw


def _printable(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")[:60]
