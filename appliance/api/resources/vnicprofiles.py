"""``/vnicprofiles``: how a VM's NIC joins a network."""

from __future__ import annotations

from appliance.api import http, listing
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

VNIC_PROFILE = Type(
    tag="vnic_profile", plural="vnicprofiles", description="How a NIC joins a network",
    links=("permissions",),
    fields=(Field("name", get=lambda p: p.name), Field("description", get=lambda p: p.description),
            Field("network", Kind.REF, get=lambda p: p.network_id, ref="networks"),
            Field("pass_through/mode", get=lambda p: "disabled"),
            Field("port_mirroring", Kind.BOOLEAN, get=lambda p: False)))


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, VNIC_PROFILE, lambda: http.engine().vnic_profiles)
