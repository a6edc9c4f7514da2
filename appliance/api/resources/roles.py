"""``/roles``: oVirt's predefined roles (read-only) and custom ones made from oVirt's permit
ids, with their ``permits``."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.permits import Permit
from appliance.engine.roles import Role, RoleCreate
from appliance.errors import InvalidInput, NotFound

ROLE = Type(
    tag="role", plural="roles", links=("permits",), description="A set of permits",
    accepted=frozenset({"comment", "permits", "user"}),
    fields=(
        Field("name", get=lambda r: r.name, writable=True),
        Field("description", get=lambda r: r.description or None, writable=True),
        Field("administrative", Kind.BOOLEAN, get=lambda r: r.administrative, writable=True),
        Field("mutable", Kind.BOOLEAN, get=lambda r: r.mutable),
    ),
)

PERMIT = Type(
    tag="permit", plural="permits", description="One thing a role allows",
    accepted=frozenset({"comment", "description", "name", "role"}),
    fields=(Field("name", get=lambda p: p.value),
            Field("administrative", Kind.BOOLEAN, get=lambda p: p.administrative)))


def install(routes: Routes) -> None:
    routes.add("/roles", Operation.LIST, tag="role", summary="List roles")(list_roles)
    routes.add("/roles", Operation.ADD, tag="role",
               summary="Add a custom role with oVirt's permit ids")(add_role)
    routes.add("/roles/<role_id>", Operation.GET, tag="role", summary="Get a role")(get_role)
    routes.add("/roles/<role_id>", Operation.UPDATE, tag="role",
               summary="Rename or describe a custom role")(update_role)
    routes.add("/roles/<role_id>", Operation.REMOVE, tag="role",
               summary="Remove a custom role")(remove_role)
    base = "/roles/<role_id>/permits"
    routes.add(base, Operation.LIST, tag="permit", summary="A role's permits")(list_permits)
    routes.add(base, Operation.ADD, tag="permit",
               summary="Add a permit to a custom role")(add_permit)
    routes.add(f"{base}/<permit_id>", Operation.GET, tag="permit",
               summary="Get a permit of a role")(get_permit)
    routes.add(f"{base}/<permit_id>", Operation.REMOVE, tag="permit",
               summary="Take a permit from a custom role")(remove_permit)


def list_roles() -> Response:
    return listing.list_response(ROLE, http.engine().roles.list())


def get_role(role_id: str) -> Response:
    return http.respond_object(ROLE, http.engine().roles.get(role_id))


def add_role() -> Response:
    """``<role><name>myrole</name><administrative>false</administrative><permits>
    <permit id="1"/><permit id="1300"/></permits></role>``."""
    node = http.read_node(ROLE.tag)
    values = ROLE.read(node)
    role = http.engine().roles.add(RoleCreate(
        name=values.get("name", ""), permit_ids=_permit_ids(node.get("permits")),
        administrative=values.get("administrative", False),
        description=values.get("description", "")), actor=http.actor())
    return http.respond_object(ROLE, role, created=True)


def update_role(role_id: str) -> Response:
    values = http.read(ROLE)
    if "administrative" in values:
        current = http.engine().roles.get(role_id)
        if values["administrative"] != current.administrative:
            raise InvalidInput("A role stays administrative or not: make a new role.")
    role = http.engine().roles.update(role_id, actor=http.actor(), name=values.get("name"),
                                      description=values.get("description"))
    return http.respond_object(ROLE, role)


def remove_role(role_id: str) -> Response:
    http.engine().users.remove_role(role_id, actor=http.actor())
    return Response(status=200)


def list_permits(role_id: str) -> Response:
    role = http.engine().roles.get(role_id)
    return listing.list_response(PERMIT, list(role.permits),
                                 render=lambda p: _render_permit(role, p))


def get_permit(role_id: str, permit_id: str) -> Response:
    role = http.engine().roles.get(role_id)
    permit = Permit.by_id(permit_id)
    if permit is None or permit not in role.permits:
        raise NotFound(f"Role {role.name} has no permit with id '{permit_id[:20]}'.")
    return http.respond(PERMIT.tag, _render_permit(role, permit))


def add_permit(role_id: str) -> Response:
    """``<permit id="1"/>`` (or ``<permit><name>create_vm</name></permit>``)."""
    node = http.read_node(PERMIT.tag)
    permit_id = str(node.get("id") or "")
    if not permit_id and isinstance(node.get("name"), str):
        named = next((p for p in Permit if p.value == node["name"]), None)
        permit_id = named.id if named else ""
    if not permit_id:
        raise InvalidInput("Name the permit by its id: <permit id=\"1300\"/>.")
    permit = http.engine().roles.add_permit(role_id, permit_id, actor=http.actor())
    rendered = _render_permit(http.engine().roles.get(role_id), permit)
    return http.respond(PERMIT.tag, rendered, status=201, location=rendered["href"])


def remove_permit(role_id: str, permit_id: str) -> Response:
    http.engine().roles.remove_permit(role_id, permit_id, actor=http.actor())
    return Response(status=200)


def _permit_ids(node: Any) -> tuple[str, ...]:
    if not node:
        return ()
    items = node.get("permit", []) if isinstance(node, dict) else []
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id")
                                              for i in items):
        raise InvalidInput("<permits> lists <permit id=\"…\"/> elements.")
    return tuple(str(i["id"]) for i in items)


def _render_permit(role: Role, permit: Permit) -> Node:
    node = PERMIT.render(permit, href=http.href("roles", role.id, "permits", permit.id))
    node["id"] = permit.id
    node["role"] = {"id": role.id, "href": http.href("roles", role.id)}
    return node
