"""``/operatingsystems``: the operating systems a VM may declare (``os/type``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Type
from appliance.errors import NotFound


@dataclass(frozen=True)
class OperatingSystem:
    id: str
    name: str
    description: str


OPERATING_SYSTEMS = (
    OperatingSystem("0", "other", "Other OS"),
    OperatingSystem("5", "other_linux", "Linux"),
    OperatingSystem("1500", "debian_12", "Debian 12"),
    OperatingSystem("33", "rhel_9x64", "Red Hat Enterprise Linux 9.x x64"),
    OperatingSystem("24", "rhel_8x64", "Red Hat Enterprise Linux 8.x x64"),
    OperatingSystem("1252", "ubuntu_22_04", "Ubuntu 22.04"),
    OperatingSystem("27", "windows_2019x64", "Windows 2019 x64"),
)

OPERATING_SYSTEM = Type(
    tag="operating_system", plural="operatingsystems",
    list_tag="operation_systems",  # sic: oVirt's model spells it so
    description="An operating system a VM may declare",
    fields=(Field("name", get=lambda o: o.name), Field("description", get=lambda o: o.description),
            Field("architecture", get=lambda o: "x86_64")))


def install(routes: Routes) -> None:
    routes.add("/operatingsystems", Operation.LIST, tag="operating_system",
               summary="List operating systems")(list_operating_systems)
    routes.add("/operatingsystems/<os_id>", Operation.GET, tag="operating_system",
               summary="Get an operating system")(get_operating_system)


def list_operating_systems() -> Response:
    return listing.list_response(OPERATING_SYSTEM, list(OPERATING_SYSTEMS))


def get_operating_system(os_id: str) -> Response:
    for system in OPERATING_SYSTEMS:
        if system.id == os_id:
            return http.respond_object(OPERATING_SYSTEM, system)
    raise NotFound(f"There is no operating system with id '{os_id[:40]}'.")
