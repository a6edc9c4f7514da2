"""``/vms/{id}/numanodes``, ``watchdogs``, ``hostdevices`` and ``mediateddevices``: devices a
VirtStick VM does not have (no virtual NUMA, watchdog, passthrough or vGPU), listed empty as
oVirt lists them for a VM without any; ovirt_vm reads the first three after every change."""

from __future__ import annotations

from appliance.api.listing import add_empty_vm_list
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

NUMA_NODE = Type(tag="vm_numa_node", plural="numanodes", description="A virtual NUMA node",
                 fields=(Field("index", Kind.INTEGER), Field("memory", Kind.INTEGER),
                         Field("vm", Kind.REF, ref="vms")))
WATCHDOG = Type(tag="watchdog", plural="watchdogs", description="A watchdog device",
                fields=(Field("model"), Field("action"), Field("vm", Kind.REF, ref="vms")))
HOST_DEVICE = Type(tag="host_device", plural="hostdevices",
                   description="A host device passed through",
                   fields=(Field("name"), Field("vm", Kind.REF, ref="vms")))
MEDIATED_DEVICE = Type(tag="vm_mediated_device", plural="mediateddevices",
                       description="A mediated device (vGPU)",
                       fields=(Field("spec_params"), Field("vm", Kind.REF, ref="vms")))


def install(routes: Routes) -> None:
    add_empty_vm_list(routes, "numanodes", NUMA_NODE, summary="A VM's virtual NUMA nodes",
                      why="VMs have one NUMA node, the host's")
    add_empty_vm_list(routes, "watchdogs", WATCHDOG, summary="A VM's watchdog devices",
                      why="VMs have no watchdog device")
    add_empty_vm_list(routes, "hostdevices", HOST_DEVICE,
                      summary="Host devices passed through to a VM",
                      why="no host device is passed through")
    add_empty_vm_list(routes, "mediateddevices", MEDIATED_DEVICE,
                      summary="A VM's mediated devices", why="VMs have no vGPU")
