"""``/networks``: the logical networks (ovirtmgmt)."""

from __future__ import annotations

from appliance.api import http, listing, terms
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

NETWORK = Type(
    tag="network", plural="networks", description="A logical network",
    links=("vnicprofiles", "permissions"),
    fields=(Field("name", get=lambda n: n.name), Field("description", get=lambda n: n.description),
            Field("data_center", Kind.REF, get=lambda n: n.data_center_id, ref="datacenters"),
            Field("mtu", Kind.INTEGER, get=lambda n: n.mtu),
            Field("usages/usage", get=lambda n: "vm" if n.vm else None)))

SEARCHABLE: terms.Terms = {
    **terms.basic(),
    "datacenter": lambda n: terms.data_center_name(n.data_center_id),
}


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, NETWORK, lambda: http.engine().networks,
                             searchable=SEARCHABLE)
