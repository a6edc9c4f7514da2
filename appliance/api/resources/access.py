"""``/users``, ``/roles`` and permissions (on the system, a VM, or seen from a user)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.users import SYSTEM_OBJECT_ID, ObjectType, Permission, Role, User
from appliance.errors import InvalidInput

USER = Type(
    tag="user", plural="users", accepted=ovirtnames.USER, links=("permissions", "roles"),
    description="A user of the internal domain",
    fields=(
        Field("name", get=lambda u: u.name, writable=True),
        Field("user_name", get=lambda u: u.user_name, writable=True),
        Field("principal", get=lambda u: u.name, writable=True),
        Field("namespace", get=lambda u: "*"),
        Field("domain/name", get=lambda u: f"{u.domain}-authz", writable=True),
        Field("email", get=lambda u: u.email or None, writable=True),
        Field("last_name", get=lambda u: u.last_name or None, writable=True),
        Field("password", writable=True),
    ),
)

ROLE = Type(
    tag="role", plural="roles", links=("permits",), description="A set of permits",
    fields=(
        Field("name", get=lambda r: r.name.value),
        Field("description", get=lambda r: r.description),
        Field("administrative", Kind.BOOLEAN, get=lambda r: r.administrative),
        Field("mutable", Kind.BOOLEAN, get=lambda r: False),
    ),
)

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
    routes.add("/users", Operation.LIST, tag="user", summary="List users")(list_users)
    routes.add("/users", Operation.ADD, tag="user",
               summary="Add an internal user (with a password)")(add_user)
    routes.add("/users/<user_id>", Operation.GET, tag="user", summary="Get a user")(get_user)
    routes.add("/users/<user_id>", Operation.REMOVE, tag="user",
               summary="Remove a user")(remove_user)
    routes.add("/users/<user_id>/permissions", Operation.LIST, tag="permission",
               summary="A user's permissions")(list_user_permissions)
    routes.add("/roles", Operation.LIST, tag="role", summary="List roles")(list_roles)
    routes.add("/roles/<role_id>", Operation.GET, tag="role", summary="Get a role")(get_role)
    routes.add("/permissions", Operation.LIST, tag="permission",
               summary="Permissions on the system")(list_system_permissions)
    routes.add("/permissions", Operation.ADD, tag="permission",
               summary="Give a user a role on the system")(add_system_permission)
    routes.add("/permissions/<permission_id>", Operation.GET, tag="permission",
               summary="Get a permission")(get_permission)
    routes.add("/permissions/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove a permission")(remove_permission)
    routes.add("/vms/<vm_id>/permissions", Operation.LIST, tag="permission",
               summary="Permissions on a VM")(list_vm_permissions)
    routes.add("/vms/<vm_id>/permissions", Operation.ADD, tag="permission",
               summary="Give a user a role on a VM")(add_vm_permission)
    routes.add("/vms/<vm_id>/permissions/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove a permission on a VM")(remove_vm_permission)


# Users

def list_users() -> Response:
    users = http.engine().users.list_users(actor=http.actor())
    return listing.list_response(USER, users, searchable={
        "name": lambda u: u.name, "usrname": lambda u: u.user_name,
        "user_name": lambda u: u.user_name, "id": lambda u: u.id,
        "email": lambda u: u.email})


def get_user(user_id: str) -> Response:
    user = http.engine().users.get_user(user_id, actor=http.actor())
    return http.respond_object(USER, user)


def add_user() -> Response:
    values = http.read(USER)
    name = values.get("user_name") or values.get("principal") or values.get("name")
    if not name:
        raise InvalidInput("A new user needs a <user_name> such as jdoe@internal.")
    if not values.get("password"):
        raise InvalidInput("A new internal user needs a <password>.")
    user = http.engine().users.create_user(
        name, values["password"], actor=http.actor(), email=values.get("email", ""),
        last_name=values.get("last_name", ""))
    return http.respond_object(USER, user, created=True)


def remove_user(user_id: str) -> Response:
    http.engine().users.remove_user(user_id, actor=http.actor())
    return Response(status=200)


def list_user_permissions(user_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    engine.users.get_user(user_id, actor=actor)
    found = engine.users.permissions(actor=actor, user_id=user_id)
    return _permissions(found, base=http.href("users", user_id, "permissions"))


# Roles

def list_roles() -> Response:
    return listing.list_response(ROLE, http.engine().users.roles())


def get_role(role_id: str) -> Response:
    role: Role = http.engine().users.role(role_id)
    return http.respond_object(ROLE, role)


# Permissions

def list_system_permissions() -> Response:
    found = http.engine().users.permissions(actor=http.actor(), object_id=SYSTEM_OBJECT_ID)
    return _permissions(found, base=http.href("permissions"))


def add_system_permission() -> Response:
    return _grant(ObjectType.SYSTEM, SYSTEM_OBJECT_ID, base=http.href("permissions"))


def get_permission(permission_id: str) -> Response:
    permission = http.engine().users.get_permission(permission_id, actor=http.actor())
    return http.respond(PERMISSION.tag, _render(permission, http.href("permissions")))


def remove_permission(permission_id: str) -> Response:
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def list_vm_permissions(vm_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    vm = engine.vms.get(vm_id, actor=actor)
    found = engine.users.permissions(actor=actor, object_id=vm.id)
    return _permissions(found, base=http.href("vms", vm.id, "permissions"))


def add_vm_permission(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    return _grant(ObjectType.VM, vm.id, base=http.href("vms", vm.id, "permissions"))


def remove_vm_permission(vm_id: str, permission_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    engine.vms.get(vm_id, actor=actor)
    permission = engine.users.get_permission(permission_id, actor=actor)
    if permission.object_id != vm_id:
        raise InvalidInput(f"Permission {permission_id} is not on this VM.")
    engine.users.remove_permission(permission_id, actor=actor)
    return Response(status=200)


def _grant(object_type: ObjectType, object_id: str, *, base: str) -> Response:
    engine = http.engine()
    values = http.read(PERMISSION)
    role_ref: dict[str, Any] | None = values.get("role")
    if not role_ref:
        raise InvalidInput("A permission needs a <role> (by id or name).")
    role = (engine.users.role(role_ref["id"]) if role_ref.get("id")
            else engine.users.role_named(role_ref["name"]))
    user = listing.resolve(_UserFinder(), values.get("user"), noun="user")
    permission = engine.users.grant(user_id=user.id, role_id=role.id,
                                    object_type=object_type, object_id=object_id,
                                    actor=http.actor())
    node = _render(permission, base)
    return http.respond(PERMISSION.tag, node, status=201, location=node["href"])


class _UserFinder:
    def find(self, object_id: str, /) -> User | None:
        return http.engine().users.find_user(object_id)

    def find_by_name(self, name: str, /) -> User | None:
        return http.engine().users.find_user_by_name(name)  # jdoe or jdoe@internal


def _permissions(found: list[Permission], *, base: str) -> Response:
    return listing.list_response(PERMISSION, found, render=lambda p: _render(p, base))


def _render(permission: Permission, base: str) -> Node:
    return PERMISSION.render(permission, href=f"{base}/{permission.id}")


__all__ = ["USER", "User"]
