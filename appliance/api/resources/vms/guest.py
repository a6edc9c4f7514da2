"""``/vms/{id}/reporteddevices``, ``sessions``, ``applications`` and ``katelloerrata``: what
oVirt's guest agent reports from inside a guest. VirtStick's guests run no agent, so, as oVirt
does for a VM whose agent is not running, the lists are empty."""

from __future__ import annotations

from appliance.api.listing import add_empty_vm_list
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

WHY = "the guest runs no guest agent to report it"

REPORTED_DEVICE = Type(tag="reported_device", plural="reporteddevices",
                       description="A device the guest agent reports (a NIC and its IPs)",
                       fields=(Field("name"), Field("type"), Field("mac/address"),
                               Field("vm", Kind.REF, ref="vms")))
SESSION = Type(tag="session", plural="sessions", description="A user logged in to the guest",
               fields=(Field("user/user_name"), Field("console_user", Kind.BOOLEAN),
                       Field("vm", Kind.REF, ref="vms")))
APPLICATION = Type(tag="application", plural="applications",
                   description="An application installed in the guest",
                   fields=(Field("name"), Field("vm", Kind.REF, ref="vms")))
KATELLO_ERRATUM = Type(tag="katello_erratum", plural="katelloerrata", list_tag="katello_errata",
                       description="A Katello erratum of the guest",
                       fields=(Field("name"), Field("vm", Kind.REF, ref="vms")))


def install(routes: Routes) -> None:
    add_empty_vm_list(routes, "reporteddevices", REPORTED_DEVICE,
                      summary="Devices the guest agent reports", why=WHY)
    add_empty_vm_list(routes, "sessions", SESSION, summary="Users logged in to the guest",
                      why=WHY)
    add_empty_vm_list(routes, "applications", APPLICATION,
                      summary="Applications installed in the guest", why=WHY)
    add_empty_vm_list(routes, "katelloerrata", KATELLO_ERRATUM,
                      summary="Errata of the guest", why="no Katello provider is configured")
