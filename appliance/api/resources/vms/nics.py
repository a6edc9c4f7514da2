"""``/vms/{id}/nics``: a VM's network interfaces; add (on a vNIC profile, or a network's
profile as API v3 clients send it), change and remove; their network filter parameters
(none: VirtStick sets no libvirt network filters)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import NicInterface
from appliance.engine.model import Nic, Vm
from appliance.engine.nic_updates import NicEdit
from appliance.engine.vms import NicCreate

NIC = Type(
    tag="nic", plural="nics", accepted=ovirtnames.NIC,
    links=("statistics", "networkfilterparameters"),
    description="A network interface of a VM",
    fields=(
        Field("name", get=lambda n: n.name, writable=True),
        Field("interface", get=lambda n: n.interface.value, writable=True,
              values=tuple(NicInterface)),
        Field("mac/address", get=lambda n: n.mac, writable=True),
        Field("linked", Kind.BOOLEAN, get=lambda n: n.linked, writable=True),
        Field("plugged", Kind.BOOLEAN, get=lambda n: n.plugged),
        Field("vnic_profile", Kind.REF, get=lambda n: n.vnic_profile_id, writable=True,
              ref="vnicprofiles"),
        Field("network", Kind.REF, writable=True, ref="networks"),
        Field("vm", Kind.REF, get=lambda n: n.vm_id, ref="vms"),
    ),
)


FILTER_PARAMETER = Type(
    tag="network_filter_parameter", plural="networkfilterparameters",
    description="A parameter of a NIC's network filter",
    fields=(Field("name", get=lambda p: p[0]), Field("value", get=lambda p: p[1])))


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/nics"
    routes.add(base, Operation.LIST, tag="nic", summary="List a VM's NICs")(list_nics)
    routes.add(base, Operation.ADD, tag="nic", summary="Add a NIC")(add_nic)
    routes.add(f"{base}/<nic_id>", Operation.GET, tag="nic", summary="Get a NIC")(get_nic)
    routes.add(f"{base}/<nic_id>", Operation.UPDATE, tag="nic",
               summary="Change a NIC (its name at any time, the rest while the VM is "
                       "down)")(update_nic)
    routes.add(f"{base}/<nic_id>", Operation.REMOVE, tag="nic",
               summary="Remove a NIC")(remove_nic)
    routes.add(f"{base}/<nic_id>/networkfilterparameters", Operation.LIST,
               tag="network_filter_parameter",
               summary="A NIC's network filter parameters (none)")(list_filter_parameters)


def followers() -> dict[str, listing.Follower]:
    """What a VM can embed: ``follow=nics``."""
    return {"nics": _embed}


def list_nics(vm_id: str) -> Response:
    return listing.list_response(NIC, _nics(vm_id), render=render)


def get_nic(vm_id: str, nic_id: str) -> Response:
    nic = http.engine().vms.get_nic(vm_id, nic_id, actor=http.actor())
    return http.respond(NIC.tag, render(nic))


def add_nic(vm_id: str) -> Response:
    engine = http.engine()
    vm = engine.vms.get(vm_id, actor=http.actor())
    values = http.read(NIC)
    profile_id = _profile_id(values)
    nic = engine.vms.add_nic(vm.id, NicCreate(
        name=values.get("name") or f"nic{len(_nics(vm.id)) + 1}", vnic_profile_id=profile_id,
        interface=NicInterface(values.get("interface", NicInterface.VIRTIO.value)),
        mac=values.get("mac/address") or None, linked=values.get("linked", True)),
        actor=http.actor())
    node = render(nic)
    return http.respond(NIC.tag, node, status=201, location=node["href"])


def update_nic(vm_id: str, nic_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    values = http.read(NIC)
    nic = engine.nic_updates.update(vm_id, nic_id, NicEdit(
        name=values.get("name"), mac=values.get("mac/address") or None,
        interface=NicInterface(values["interface"]) if "interface" in values else None,
        vnic_profile_id=_profile_id(values), linked=values.get("linked")), actor=actor)
    return http.respond(NIC.tag, render(nic))


def list_filter_parameters(vm_id: str, nic_id: str) -> Response:
    http.engine().vms.get_nic(vm_id, nic_id, actor=http.actor())
    return http.respond_list(FILTER_PARAMETER, [])


def remove_nic(vm_id: str, nic_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    nic = engine.vms.get_nic(vm_id, nic_id, actor=actor)
    engine.vms.remove_nic(nic.vm_id, nic.id, actor=actor)
    return Response(status=200)


def render(nic: Nic) -> Node:
    return NIC.render(nic, href=http.href("vms", nic.vm_id, "nics", nic.id))


def _nics(vm_id: str) -> list[Nic]:
    return http.engine().vms.list_nics(vm_id, actor=http.actor())


def _embed(vm: Vm, node: Node) -> None:
    node["nics"] = {"nic": [render(n) for n in _nics(vm.id)]}


def _profile_id(values: dict[str, Any]) -> str | None:
    engine = http.engine()
    if "vnic_profile" in values:
        return listing.resolve(engine.vnic_profiles, values["vnic_profile"],
                               noun="vNIC profile").id
    if "network" in values:  # the API v3 way: a network, meaning its profile
        network = listing.resolve(engine.networks, values["network"], noun="network")
        return engine.networks.default_profile(network.id).id
    return None
