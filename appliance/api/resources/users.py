"""``/users``: users of the internal domain, and the permissions each one has."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.resources import permissions
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Type
from appliance.engine.users import User
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


def install(routes: Routes) -> None:
    routes.add("/users", Operation.LIST, tag="user", summary="List users")(list_users)
    routes.add("/users", Operation.ADD, tag="user",
               summary="Add an internal user (with a password)")(add_user)
    routes.add("/users/<user_id>", Operation.GET, tag="user", summary="Get a user")(get_user)
    routes.add("/users/<user_id>", Operation.REMOVE, tag="user",
               summary="Remove a user")(remove_user)
    routes.add("/users/<user_id>/permissions", Operation.LIST, tag="permission",
               summary="A user's permissions")(list_user_permissions)


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
    return permissions.respond_list(found, base=http.href("users", user_id, "permissions"))


__all__ = ["USER", "User"]
