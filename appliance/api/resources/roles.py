"""``/roles``: the roles a permission can give (SuperUser, UserRole)."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.users import Role

ROLE = Type(
    tag="role", plural="roles", links=("permits",), description="A set of permits",
    fields=(
        Field("name", get=lambda r: r.name.value),
        Field("description", get=lambda r: r.description),
        Field("administrative", Kind.BOOLEAN, get=lambda r: r.administrative),
        Field("mutable", Kind.BOOLEAN, get=lambda r: False),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/roles", Operation.LIST, tag="role", summary="List roles")(list_roles)
    routes.add("/roles/<role_id>", Operation.GET, tag="role", summary="Get a role")(get_role)


def list_roles() -> Response:
    return listing.list_response(ROLE, http.engine().users.roles())


def get_role(role_id: str) -> Response:
    role: Role = http.engine().users.role(role_id)
    return http.respond_object(ROLE, role)
