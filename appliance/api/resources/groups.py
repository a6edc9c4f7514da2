"""``/groups``: groups of the internal domain, and the permissions each holds."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.resources import permissions
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Type
from appliance.engine.authz import SYSTEM_OBJECT_ID
from appliance.engine.grants import ObjectType, Permission
from appliance.engine.groups import INTERNAL_AUTHZ
from appliance.errors import InvalidInput, NotFound

GROUP = Type(
    tag="group", plural="groups", links=("permissions", "roles"),
    description="A group of the internal domain",
    accepted=frozenset({"comment", "description", "domain_entry_id", "permissions", "roles",
                        "tags"}),
    fields=(
        Field("name", get=lambda g: g.name, writable=True),
        Field("namespace", get=lambda g: "*", writable=True),
        Field("domain/name", get=lambda g: INTERNAL_AUTHZ, writable=True),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/groups", Operation.LIST, tag="group", summary="List groups")(list_groups)
    routes.add("/groups", Operation.ADD, tag="group",
               summary="Add a group of the internal domain")(add_group)
    routes.add("/groups/<group_id>", Operation.GET, tag="group",
               summary="Get a group")(get_group)
    routes.add("/groups/<group_id>", Operation.REMOVE, tag="group",
               summary="Remove a group and its permissions")(remove_group)
    base = "/groups/<group_id>/permissions"
    routes.add(base, Operation.LIST, tag="permission",
               summary="A group's permissions")(list_group_permissions)
    routes.add(base, Operation.ADD, tag="permission",
               summary="Give the group a role on an object")(add_group_permission)
    routes.add(f"{base}/<permission_id>", Operation.GET, tag="permission",
               summary="Get one of a group's permissions")(get_group_permission)
    routes.add(f"{base}/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove one of a group's permissions")(remove_group_permission)


def list_groups() -> Response:
    return listing.list_response(GROUP, http.engine().groups.list(actor=http.actor()))


def get_group(group_id: str) -> Response:
    return http.respond_object(GROUP, http.engine().groups.get(group_id, actor=http.actor()))


def add_group() -> Response:
    """``<group><name>mygroup</name><domain><name>internal-authz</name></domain></group>``."""
    values = http.read(GROUP)
    if not values.get("name"):
        raise InvalidInput("A new group needs a <name>.")
    group = http.engine().groups.add(values["name"], actor=http.actor(),
                                     domain=values.get("domain/name", INTERNAL_AUTHZ))
    return http.respond_object(GROUP, group, created=True)


def remove_group(group_id: str) -> Response:
    http.engine().users.remove_group(group_id, actor=http.actor())
    return Response(status=200)


def list_group_permissions(group_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    group = engine.groups.get(group_id, actor=actor)
    found = engine.users.permissions(actor=actor, group_id=group.id)
    return permissions.respond_list(found, base=_permissions(group.id))


def add_group_permission(group_id: str) -> Response:
    group = http.engine().groups.get(group_id, actor=http.actor())
    return permissions.grant(ObjectType.SYSTEM, SYSTEM_OBJECT_ID, base=_permissions(group.id),
                             holder={"group": group.id})


def get_group_permission(group_id: str, permission_id: str) -> Response:
    permission = _group_permission(group_id, permission_id)
    return http.respond(permissions.PERMISSION.tag,
                        permissions.render(permission, _permissions(group_id)))


def remove_group_permission(group_id: str, permission_id: str) -> Response:
    _group_permission(group_id, permission_id)
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def _group_permission(group_id: str, permission_id: str) -> Permission:
    engine, actor = http.engine(), http.actor()
    group = engine.groups.get(group_id, actor=actor)
    for permission in engine.users.permissions(actor=actor, group_id=group.id):
        if permission.id == permission_id:
            return permission
    raise NotFound(f"Group {group.name} has no permission with id '{permission_id[:60]}'.")


def _permissions(group_id: str) -> str:
    return http.href("groups", group_id, "permissions")
