"""``/permissions`` (on the system) and ``/{collection}/{id}/permissions`` (on one template,
disk, host, cluster, data center, storage domain, network, vNIC profile or pool): roles
given to users or groups. The VM's own room is vms/permissions.py; users' and groups'
permissions are in users.py and groups.py. All share the type and the views here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.authz import SYSTEM_OBJECT_ID
from appliance.engine.grants import ObjectType, Permission
from appliance.engine.groups import Group
from appliance.engine.users import User
from appliance.errors import InvalidInput, NotFound

# The collection each kind of object lives in (a permission links to its object).
COLLECTIONS: dict[ObjectType, str] = {
    ObjectType.VM: "vms", ObjectType.TEMPLATE: "templates", ObjectType.DISK: "disks",
    ObjectType.HOST: "hosts", ObjectType.CLUSTER: "clusters",
    ObjectType.DATA_CENTER: "datacenters", ObjectType.STORAGE_DOMAIN: "storagedomains",
    ObjectType.NETWORK: "networks", ObjectType.VNIC_PROFILE: "vnicprofiles",
    ObjectType.VM_POOL: "vmpools",
}


def _on(object_type: ObjectType) -> Callable[[Permission], str | None]:
    return lambda p: p.object_id if p.object_type is object_type else None


PERMISSION = Type(
    tag="permission", plural="permissions", accepted=ovirtnames.PERMISSION,
    description="A role given to a user or a group on an object",
    fields=(
        Field("role", Kind.REF, get=lambda p: p.role_id, writable=True, ref="roles"),
        Field("user", Kind.REF, get=lambda p: p.user_id or None, writable=True, ref="users"),
        Field("group", Kind.REF, get=lambda p: p.group_id or None, writable=True,
              ref="groups"),
        *(Field(t.value, Kind.REF, get=_on(t), ref=plural)
          for t, plural in COLLECTIONS.items()),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/permissions", Operation.LIST, tag="permission",
               summary="Permissions on the system")(list_system_permissions)
    routes.add("/permissions", Operation.ADD, tag="permission",
               summary="Give a user or a group a role on the system")(add_system_permission)
    routes.add("/permissions/<permission_id>", Operation.GET, tag="permission",
               summary="Get a permission")(get_permission)
    routes.add("/permissions/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove a permission")(remove_permission)
    for object_type, plural in COLLECTIONS.items():
        if object_type is not ObjectType.VM:  # the VM's room has its own
            install_on(routes, object_type, plural)


def install_on(routes: Routes, object_type: ObjectType, plural: str) -> None:
    """The four views of ``/{plural}/<object_id>/permissions`` for one kind of object."""
    noun = object_type.value.replace("_", " ")

    def list_view(object_id: str) -> Response:
        return respond_list(_on_object(object_type, object_id), base=_base(plural, object_id))

    def add_view(object_id: str) -> Response:
        return grant(object_type, object_id, base=_base(plural, object_id))

    def get_view(object_id: str, permission_id: str) -> Response:
        permission = one_on(object_type, object_id, permission_id)
        return http.respond(PERMISSION.tag, render(permission, _base(plural, object_id)))

    def remove_view(object_id: str, permission_id: str) -> Response:
        one_on(object_type, object_id, permission_id)
        http.engine().users.remove_permission(permission_id, actor=http.actor())
        return Response(status=200)

    rule = f"/{plural}/<object_id>/permissions"
    for view, verb in ((list_view, "list"), (add_view, "add"), (get_view, "get"),
                       (remove_view, "remove")):
        view.__name__ = f"{verb}_{object_type.value}_permission"
    routes.add(rule, Operation.LIST, tag="permission",
               summary=f"Permissions on a {noun}")(list_view)
    routes.add(rule, Operation.ADD, tag="permission",
               summary=f"Give a user or a group a role on a {noun}")(add_view)
    routes.add(f"{rule}/<permission_id>", Operation.GET, tag="permission",
               summary=f"Get a permission on a {noun}")(get_view)
    routes.add(f"{rule}/<permission_id>", Operation.REMOVE, tag="permission",
               summary=f"Remove a permission on a {noun}")(remove_view)


def list_system_permissions() -> Response:
    return respond_list(_on_object(ObjectType.SYSTEM, SYSTEM_OBJECT_ID),
                        base=http.href("permissions"))


def add_system_permission() -> Response:
    """On the system, or on the object the body names (``<data_center id=…/>``), as oVirt's
    top-level permissions take."""
    return grant(ObjectType.SYSTEM, SYSTEM_OBJECT_ID, base=http.href("permissions"))


def get_permission(permission_id: str) -> Response:
    permission = http.engine().users.get_permission(permission_id, actor=http.actor())
    return http.respond(PERMISSION.tag, render(permission, http.href("permissions")))


def remove_permission(permission_id: str) -> Response:
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def grant(object_type: ObjectType, object_id: str, *, base: str,
          holder: dict[str, str] | None = None) -> Response:
    """The body's ``<role>`` (by id or name) for its ``<user>`` or ``<group>`` (or
    ``holder``, when the URL names them), on the object."""
    engine = http.engine()
    node = http.read_node(PERMISSION.tag)
    values = PERMISSION.read(node)
    role_ref: dict[str, Any] | None = values.get("role")
    if not role_ref:
        raise InvalidInput("A permission needs a <role> (by id or name).")
    role = (engine.roles.get(role_ref["id"]) if role_ref.get("id")
            else engine.roles.named(role_ref["name"]))
    object_type, object_id = _named_object(node, object_type, object_id)
    user_id, group_id = _holder(holder or {}, values)
    permission = engine.users.grant(role_id=role.id, object_type=object_type,
                                    object_id=object_id, user_id=user_id, group_id=group_id,
                                    actor=http.actor())
    rendered = render(permission, base)
    return http.respond(PERMISSION.tag, rendered, status=201, location=rendered["href"])


def one_on(object_type: ObjectType, object_id: str, permission_id: str) -> Permission:
    """A permission of the object, or NotFound as oVirt answers for another object's."""
    for permission in _on_object(object_type, object_id):
        if permission.id == permission_id:
            return permission
    noun = object_type.value.replace("_", " ")
    raise NotFound(f"The {noun} has no permission with id '{permission_id[:60]}'.")


def respond_list(found: list[Permission], *, base: str) -> Response:
    return listing.list_response(PERMISSION, found, render=lambda p: render(p, base))


def render(permission: Permission, base: str) -> Node:
    return PERMISSION.render(permission, href=f"{base}/{permission.id}")


def _on_object(object_type: ObjectType, object_id: str) -> list[Permission]:
    return http.engine().users.permissions_on(object_type, object_id, actor=http.actor())


def _base(plural: str, object_id: str) -> str:
    return http.href(plural, object_id, "permissions")


def _named_object(node: Node, object_type: ObjectType,
                  object_id: str) -> tuple[ObjectType, str]:
    if object_type is not ObjectType.SYSTEM:
        return object_type, object_id
    named = [(t, node[t.value]) for t in COLLECTIONS if isinstance(node.get(t.value), dict)]
    if len(named) > 1:
        raise InvalidInput("A permission is on one object: name one of "
                           f"{', '.join(t.value for t, _ in named)}.")
    if named and named[0][1].get("id"):
        return named[0][0], str(named[0][1]["id"])
    return object_type, object_id


def _holder(holder: dict[str, str], values: dict[str, Any]) -> tuple[str, str]:
    """(user id, group id) of the body's ``<user>`` or ``<group>``, by id or name."""
    if holder:
        return holder.get("user", ""), holder.get("group", "")
    user_ref, group_ref = values.get("user"), values.get("group")
    if user_ref:
        return listing.resolve(_Users(), user_ref, noun="user").id, ""
    if group_ref:
        return "", listing.resolve(_Groups(), group_ref, noun="group").id
    raise InvalidInput("A permission needs a <user> or a <group> (by id or name).")


class _Users:
    def find(self, object_id: str, /) -> User | None:
        return http.engine().users.find_user(object_id)

    def find_by_name(self, name: str, /) -> User | None:
        return http.engine().users.find_user_by_name(name)  # jdoe, jdoe@internal(-authz)


class _Groups:
    def find(self, object_id: str, /) -> Group | None:
        groups = http.engine().groups
        return next((g for g in groups.list(actor=http.actor()) if g.id == object_id), None)

    def find_by_name(self, name: str, /) -> Group | None:
        return http.engine().groups.find_by_name(name)
