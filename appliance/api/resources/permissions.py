"""``/permissions``: roles given to users on the system; the permission type and the grant
that users.py and vms/permissions.py share."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.users import SYSTEM_OBJECT_ID, ObjectType, Permission, User
from appliance.errors import InvalidInput

PERMISSION = Type(
    tag="permission", plural="permissions", accepted=ovirtnames.PERMISSION,
    description="A role given to a user on an object",
    fields=(
        Field("role", Kind.REF, get=lambda p: p.role_id, writable=True, ref="roles"),
        Field("user", Kind.REF, get=lambda p: p.user_id, writable=True, ref="users"),
        Field("vm", Kind.REF, ref="vms",
              get=lambda p: p.object_id if p.object_type is ObjectType.VM else None),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/permissions", Operation.LIST, tag="permission",
               summary="Permissions on the system")(list_system_permissions)
    routes.add("/permissions", Operation.ADD, tag="permission",
               summary="Give a user a role on the system")(add_system_permission)
    routes.add("/permissions/<permission_id>", Operation.GET, tag="permission",
               summary="Get a permission")(get_permission)
    routes.add("/permissions/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove a permission")(remove_permission)


def list_system_permissions() -> Response:
    found = http.engine().users.permissions(actor=http.actor(), object_id=SYSTEM_OBJECT_ID)
    return respond_list(found, base=http.href("permissions"))


def add_system_permission() -> Response:
    return grant(ObjectType.SYSTEM, SYSTEM_OBJECT_ID, base=http.href("permissions"))


def get_permission(permission_id: str) -> Response:
    permission = http.engine().users.get_permission(permission_id, actor=http.actor())
    return http.respond(PERMISSION.tag, render(permission, http.href("permissions")))


def remove_permission(permission_id: str) -> Response:
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def grant(object_type: ObjectType, object_id: str, *, base: str) -> Response:
    """The body's ``<role>`` (by id or name) for its ``<user>``, on the object."""
    engine = http.engine()
    values = http.read(PERMISSION)
    role_ref: dict[str, Any] | None = values.get("role")
    if not role_ref:
        raise InvalidInput("A permission needs a <role> (by id or name).")
    role = (engine.users.role(role_ref["id"]) if role_ref.get("id")
            else engine.users.role_named(role_ref["name"]))
    user = listing.resolve(_Users(), values.get("user"), noun="user")
    permission = engine.users.grant(user_id=user.id, role_id=role.id,
                                    object_type=object_type, object_id=object_id,
                                    actor=http.actor())
    node = render(permission, base)
    return http.respond(PERMISSION.tag, node, status=201, location=node["href"])


def respond_list(found: list[Permission], *, base: str) -> Response:
    return listing.list_response(PERMISSION, found, render=lambda p: render(p, base))


def render(permission: Permission, base: str) -> Node:
    return PERMISSION.render(permission, href=f"{base}/{permission.id}")


class _Users:
    def find(self, object_id: str, /) -> User | None:
        return http.engine().users.find_user(object_id)

    def find_by_name(self, name: str, /) -> User | None:
        return http.engine().users.find_user_by_name(name)  # jdoe or jdoe@internal
