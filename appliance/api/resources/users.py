"""``/users``: users of the internal domain as oVirt names them (``user_name``
``jdoe@internal-authz``, principal ``jdoe``, domain ``internal-authz``; the login is still
``jdoe@internal``), their permissions, roles, groups and SSH public keys."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import permissions
from appliance.api.resources.groups import GROUP
from appliance.api.resources.roles import ROLE
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Type
from appliance.engine.authz import SYSTEM_OBJECT_ID
from appliance.engine.grants import ObjectType, Permission
from appliance.engine.groups import INTERNAL_AUTHZ
from appliance.engine.roles import Role
from appliance.engine.ssh_keys import SshPublicKey
from appliance.engine.users import User, split_user_name
from appliance.errors import InvalidInput, NotFound

USER = Type(
    tag="user", plural="users", accepted=ovirtnames.USER,
    links=("permissions", "roles", "groups", "sshpublickeys"),
    description="A user of the internal domain",
    fields=(
        Field("name", get=lambda u: u.name, writable=True),
        Field("user_name", get=lambda u: authz_name(u), writable=True),
        Field("principal", get=lambda u: u.name, writable=True),
        Field("namespace", get=lambda u: "*"),
        Field("domain/name", get=lambda u: INTERNAL_AUTHZ, writable=True),
        Field("email", get=lambda u: u.email or None, writable=True),
        Field("last_name", get=lambda u: u.last_name or None, writable=True),
        Field("password", writable=True),
    ),
)

SSH_PUBLIC_KEY = Type(
    tag="ssh_public_key", plural="sshpublickeys", description="A user's SSH public key",
    list_tag="ssh_public_keys",
    accepted=frozenset({"comment", "description", "name", "user"}),
    fields=(Field("content", get=lambda k: k.content, writable=True),))

SEARCHABLE = {
    "name": lambda u: u.name, "usrname": lambda u: authz_name(u),
    "user_name": lambda u: authz_name(u), "id": lambda u: u.id,
    "email": lambda u: u.email, "lastname": lambda u: u.last_name,
    "firstname": lambda u: u.first_name}


def authz_name(user: User) -> str:
    """``jdoe@internal-authz``: how oVirt (and its clients' searches) name a user."""
    return f"{user.name}@{INTERNAL_AUTHZ}"


def install(routes: Routes) -> None:
    routes.add("/users", Operation.LIST, tag="user", summary="List users")(list_users)
    routes.add("/users", Operation.ADD, tag="user",
               summary="Add an internal user (a password is optional)")(add_user)
    routes.add("/users/<user_id>", Operation.GET, tag="user", summary="Get a user")(get_user)
    routes.add("/users/<user_id>", Operation.REMOVE, tag="user",
               summary="Remove a user")(remove_user)
    base = "/users/<user_id>/permissions"
    routes.add(base, Operation.LIST, tag="permission",
               summary="A user's permissions")(list_user_permissions)
    routes.add(base, Operation.ADD, tag="permission",
               summary="Give the user a role on an object")(add_user_permission)
    routes.add(f"{base}/<permission_id>", Operation.GET, tag="permission",
               summary="Get one of a user's permissions")(get_user_permission)
    routes.add(f"{base}/<permission_id>", Operation.REMOVE, tag="permission",
               summary="Remove one of a user's permissions")(remove_user_permission)
    routes.add("/users/<user_id>/roles", Operation.LIST, tag="role",
               summary="The roles a user's permissions give")(list_user_roles)
    routes.add("/users/<user_id>/groups", Operation.LIST, tag="group",
               summary="The groups a user is in")(list_user_groups)
    _install_ssh_keys(routes)


def _install_ssh_keys(routes: Routes) -> None:
    base = "/users/<user_id>/sshpublickeys"
    routes.add(base, Operation.LIST, tag="ssh_public_key",
               summary="A user's SSH public keys")(list_keys)
    routes.add(base, Operation.ADD, tag="ssh_public_key",
               summary="Add an SSH public key to a user")(add_key)
    routes.add(f"{base}/<key_id>", Operation.GET, tag="ssh_public_key",
               summary="Get an SSH public key")(get_key)
    routes.add(f"{base}/<key_id>", Operation.UPDATE, tag="ssh_public_key",
               summary="Replace an SSH public key")(update_key)
    routes.add(f"{base}/<key_id>", Operation.REMOVE, tag="ssh_public_key",
               summary="Remove an SSH public key")(remove_key)


def list_users() -> Response:
    users = http.engine().users.list_users(actor=http.actor())
    return listing.list_response(USER, users, searchable=SEARCHABLE)


def get_user(user_id: str) -> Response:
    user = http.engine().users.get_user(user_id, actor=http.actor())
    return http.respond_object(USER, user)


def add_user() -> Response:
    """``<user><user_name>jdoe@internal-authz</user_name><domain><name>internal-authz
    </name></domain></user>`` (as ``ovirt_user`` sends): no password, as oVirt adds users
    of its directory; ``virtstick user password jdoe`` lets them log in."""
    values = http.read(USER)
    name = values.get("user_name") or values.get("principal") or values.get("name")
    if not name:
        raise InvalidInput("A new user needs a <user_name> such as jdoe@internal-authz.")
    principal, _domain = split_user_name(name, error=InvalidInput)
    split_user_name(f"{principal}@{values.get('domain/name', INTERNAL_AUTHZ)}",
                    error=InvalidInput)
    user = http.engine().users.create_user(
        principal, values.get("password") or None, actor=http.actor(), role=None,
        email=values.get("email", ""), last_name=values.get("last_name", ""))
    return http.respond_object(USER, user, created=True)


def remove_user(user_id: str) -> Response:
    http.engine().users.remove_user(user_id, actor=http.actor())
    return Response(status=200)


# Permissions, roles and groups of a user

def list_user_permissions(user_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    engine.users.get_user(user_id, actor=actor)
    found = engine.users.permissions(actor=actor, user_id=user_id)
    return permissions.respond_list(found, base=_permissions(user_id))


def add_user_permission(user_id: str) -> Response:
    """``<permission><role><name>UserRole</name></role><vm id=…/></permission>``: the object
    the body names, else the system."""
    user = http.engine().users.get_user(user_id, actor=http.actor())
    return permissions.grant(ObjectType.SYSTEM, SYSTEM_OBJECT_ID,
                             base=_permissions(user.id), holder={"user": user.id})


def get_user_permission(user_id: str, permission_id: str) -> Response:
    permission = _user_permission(user_id, permission_id)
    return http.respond(permissions.PERMISSION.tag,
                        permissions.render(permission, _permissions(user_id)))


def remove_user_permission(user_id: str, permission_id: str) -> Response:
    _user_permission(user_id, permission_id)
    http.engine().users.remove_permission(permission_id, actor=http.actor())
    return Response(status=200)


def list_user_roles(user_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    engine.users.get_user(user_id, actor=actor)
    held = {p.role_id for p in engine.users.permissions(actor=actor, user_id=user_id)}
    roles: list[Role] = [r for r in engine.roles.list() if r.id in held]
    return listing.list_response(ROLE, roles)


def list_user_groups(user_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    engine.users.get_user(user_id, actor=actor)
    groups = [g for g in engine.groups.list(actor=actor) if user_id in g.member_ids]
    return listing.list_response(GROUP, groups)


def _user_permission(user_id: str, permission_id: str) -> Permission:
    engine, actor = http.engine(), http.actor()
    engine.users.get_user(user_id, actor=actor)
    for permission in engine.users.permissions(actor=actor, user_id=user_id):
        if permission.id == permission_id:
            return permission
    raise NotFound(f"The user has no permission with id '{permission_id[:60]}'.")


def _permissions(user_id: str) -> str:
    return http.href("users", user_id, "permissions")


# SSH public keys

def list_keys(user_id: str) -> Response:
    keys = http.engine().ssh_keys.list(user_id, actor=http.actor())
    return listing.list_response(SSH_PUBLIC_KEY, keys, render=_render_key)


def get_key(user_id: str, key_id: str) -> Response:
    key = http.engine().ssh_keys.get(user_id, key_id, actor=http.actor())
    return http.respond(SSH_PUBLIC_KEY.tag, _render_key(key))


def add_key(user_id: str) -> Response:
    content = http.read(SSH_PUBLIC_KEY).get("content", "")
    key = http.engine().ssh_keys.add(user_id, content, actor=http.actor())
    node = _render_key(key)
    return http.respond(SSH_PUBLIC_KEY.tag, node, status=201, location=node["href"])


def update_key(user_id: str, key_id: str) -> Response:
    content = http.read(SSH_PUBLIC_KEY).get("content", "")
    key = http.engine().ssh_keys.update(user_id, key_id, content, actor=http.actor())
    return http.respond(SSH_PUBLIC_KEY.tag, _render_key(key))


def remove_key(user_id: str, key_id: str) -> Response:
    http.engine().ssh_keys.remove(user_id, key_id, actor=http.actor())
    return Response(status=200)


def _render_key(key: SshPublicKey) -> Node:
    node = SSH_PUBLIC_KEY.render(key, href=http.href("users", key.user_id, "sshpublickeys",
                                                     key.id))
    node["user"] = {"id": key.user_id, "href": http.href("users", key.user_id)}
    return node


__all__ = ["USER", "User"]
