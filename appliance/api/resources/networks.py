"""``/networks``: logical networks added (each with its vNIC profile), changed and removed as
oVirt allows; the networks of a data center (``/datacenters/{id}/networks``) and those
attached to a cluster (``/clusters/{id}/networks``: attach by id, required or not; detach)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.representation import Node
from appliance.api.resources.vnicprofiles import VNIC_PROFILE
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import NetworkUsage
from appliance.engine.model import ClusterNetwork, Network
from appliance.engine.networks import NetworkSpec
from appliance.errors import InvalidInput, NotFound

NETWORK = Type(
    tag="network", plural="networks", description="A logical network",
    links=("vnicprofiles", "permissions"),
    accepted=frozenset({"stp", "display", "profile_required", "status", "cluster",
                        "external_provider", "port_isolation", "dns_resolver_configuration",
                        "qos", "vdsm_name", "ip"}),
    fields=(Field("name", get=lambda n: n.name, writable=True),
            Field("description", get=lambda n: n.description, writable=True),
            Field("comment", get=lambda n: n.comment, writable=True),
            Field("data_center", Kind.REF, get=lambda n: n.data_center_id, ref="datacenters",
                  writable=True),
            Field("mtu", Kind.INTEGER, get=lambda n: n.mtu, writable=True),
            Field("vlan", Kind.REF, get=lambda n: {"id": str(n.vlan_id)} if n.vlan_id else None,
                  writable=True),
            Field("usages", Kind.STRINGS, get=lambda n: [u.value for u in n.all_usages],
                  item="usage", values=tuple(NetworkUsage), writable=True),
            Field("stp", Kind.BOOLEAN, get=lambda n: False),
            Field("profile_required", Kind.BOOLEAN, get=lambda n: True),
            # answered in a cluster's networks only (``_in_cluster``)
            Field("required", Kind.BOOLEAN, writable=True)))

SEARCHABLE: terms.Terms = {
    **terms.basic(),
    "datacenter": lambda n: terms.data_center_name(n.data_center_id),
}


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, NETWORK, lambda: http.engine().networks,
                             searchable=SEARCHABLE)
    routes.add("/networks", Operation.ADD, tag="network",
               summary="Add a logical network to a data center (and its vNIC profile)")(
        add_network)
    routes.add("/networks/<network_id>", Operation.UPDATE, tag="network",
               summary="Change a logical network")(update_network)
    routes.add("/networks/<network_id>", Operation.REMOVE, tag="network",
               summary="Remove a logical network no VM uses")(remove_network)
    routes.add("/networks/<network_id>/vnicprofiles", Operation.LIST, tag="vnic_profile",
               summary="The vNIC profiles of a network")(list_network_profiles)
    dc = "/datacenters/<dc_id>/networks"
    routes.add(dc, Operation.LIST, tag="network",
               summary="The logical networks of a data center")(list_datacenter_networks)
    routes.add(dc, Operation.ADD, tag="network",
               summary="Add a logical network to a data center")(add_datacenter_network)
    routes.add(f"{dc}/<network_id>", Operation.GET, tag="network",
               summary="A logical network of a data center")(get_datacenter_network)
    cluster = "/clusters/<cluster_id>/networks"
    routes.add(cluster, Operation.LIST, tag="network",
               summary="The networks attached to a cluster")(list_cluster_networks)
    routes.add(cluster, Operation.ADD, tag="network",
               summary="Attach a network of the cluster's data center")(attach_network)
    routes.add(f"{cluster}/<network_id>", Operation.GET, tag="network",
               summary="A network as attached to a cluster")(get_cluster_network)
    routes.add(f"{cluster}/<network_id>", Operation.UPDATE, tag="network",
               summary="Change whether a cluster requires a network")(update_cluster_network)
    routes.add(f"{cluster}/<network_id>", Operation.REMOVE, tag="network",
               summary="Detach a network from a cluster")(detach_network)


def add_network(datacenter_id: str | None = None) -> Response:
    values = http.read(NETWORK)
    spec = _spec(values)
    if datacenter_id is not None:
        spec = NetworkSpec(**{**vars(spec), "data_center_id": datacenter_id})
    if not spec.name:
        raise InvalidInput("A new network needs a <name>.")
    if not spec.data_center_id:
        raise InvalidInput("A new network needs a <data_center> (by id or name).")
    made = http.engine().networks.add(spec, actor=http.actor())
    return http.respond_object(NETWORK, made, created=True)


def update_network(network_id: str) -> Response:
    spec = _spec(http.read(NETWORK))
    updated = http.engine().networks.update(network_id, spec, actor=http.actor())
    return http.respond_object(NETWORK, updated)


def remove_network(network_id: str) -> Response:
    http.engine().networks.remove(network_id, actor=http.actor())
    return Response(status=200)


def list_network_profiles(network_id: str) -> Response:
    engine = http.engine()
    network = engine.networks.get(network_id)
    profiles = [p for p in engine.vnic_profiles.list() if p.network_id == network.id]
    return listing.list_response(VNIC_PROFILE, profiles)


def list_datacenter_networks(dc_id: str) -> Response:
    return listing.list_response(NETWORK, http.engine().networks.in_data_center(dc_id))


def add_datacenter_network(dc_id: str) -> Response:
    http.engine().datacenters.get(dc_id)
    return add_network(datacenter_id=dc_id)


def get_datacenter_network(dc_id: str, network_id: str) -> Response:
    for network in http.engine().networks.in_data_center(dc_id):
        if network.id == network_id:
            return http.respond_object(NETWORK, network)
    raise NotFound(f"Data center {dc_id[:60]} has no network with id '{network_id[:60]}'.")


def list_cluster_networks(cluster_id: str) -> Response:
    attached = http.engine().networks.of_cluster(cluster_id)
    return http.respond_list(NETWORK, [_in_cluster(cluster_id, n, a) for n, a in attached])


def get_cluster_network(cluster_id: str, network_id: str) -> Response:
    for network, attached in http.engine().networks.of_cluster(cluster_id):
        if network.id == network_id:
            return http.respond(NETWORK.tag, _in_cluster(cluster_id, network, attached))
    raise NotFound(f"Network {network_id[:60]} is not attached to cluster {cluster_id[:60]}.")


def attach_network(cluster_id: str) -> Response:
    """``<network id="..."><required>true</required></network>`` (or by name)."""
    node = http.read_node("network")
    values = NETWORK.read(node)
    engine = http.engine()
    reference = {"id": str(node.get("id", "")), "name": str(values.get("name") or "")}
    network = listing.resolve(engine.networks, reference, noun="network")
    engine.networks.attach(cluster_id, network.id, actor=http.actor(),
                           required=values.get("required", True))
    for found, attached in engine.networks.of_cluster(cluster_id):
        if found.id == network.id:
            node_out = _in_cluster(cluster_id, found, attached)
            return http.respond(NETWORK.tag, node_out, status=201,
                                location=str(node_out["href"]))
    raise NotFound(f"Network {network.name} was not attached.")  # pragma: no cover


def update_cluster_network(cluster_id: str, network_id: str) -> Response:
    values = NETWORK.read(http.read_node("network"))
    engine = http.engine()
    if "required" in values:
        engine.networks.set_required(cluster_id, network_id, required=values["required"],
                                     actor=http.actor())
    return get_cluster_network(cluster_id, network_id)


def detach_network(cluster_id: str, network_id: str) -> Response:
    http.engine().networks.detach(cluster_id, network_id, actor=http.actor())
    return Response(status=200)


def _in_cluster(cluster_id: str, network: Network, attached: ClusterNetwork) -> Node:
    node = NETWORK.render(network, href=http.href("clusters", cluster_id, "networks",
                                                  network.id))
    node["required"] = "true" if attached.required else "false"
    node["cluster"] = {"href": http.href("clusters", cluster_id), "id": cluster_id}
    node["status"] = "operational"
    node["display"] = "true" if NetworkUsage.DISPLAY in network.all_usages else "false"
    return node


def _spec(values: dict[str, Any]) -> NetworkSpec:
    datacenter = values.get("data_center")
    vlan = values.get("vlan")
    usages = values.get("usages")
    return NetworkSpec(
        name=values.get("name"), description=values.get("description"),
        comment=values.get("comment"), mtu=values.get("mtu"),
        data_center_id=listing.resolve(http.engine().datacenters, datacenter,
                                       noun="data center").id if datacenter else None,
        vlan_id=_vlan(vlan) if vlan is not None else None,
        usages=tuple(NetworkUsage(u) for u in usages) if usages is not None else None)


def _vlan(reference: dict[str, str]) -> int:
    text = reference.get("id", "")
    if not text.isdigit():
        raise InvalidInput(f"<network><vlan id> must be a number from 0 to 4094, not "
                           f"'{text[:20]}'.")
    return int(text)
