"""``/vms``: list, get, add, edit, remove and the lifecycle actions of VMs (start, stop,
shutdown, reboot, reset, suspend)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.resources import ovf_configurations
from appliance.api.resources.vms import diskattachments, nics
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, iso_time
from appliance.engine.enums import BootDevice, DisplayType, VmStatus
from appliance.engine.model import BLANK_TEMPLATE_ID, Job, Vm
from appliance.engine.vm_updates import VmUpdate
from appliance.engine.vms import VmCreate
from appliance.errors import InvalidInput, NotSupported

VM_LINKS = ("diskattachments", "nics", "snapshots", "cdroms", "graphicsconsoles",
            "permissions", "statistics")

VM = Type(
    tag="vm", plural="vms", links=VM_LINKS, accepted=ovirtnames.VM,
    description="A virtual machine",
    fields=(
        Field("name", get=lambda v: v.name, writable=True),
        Field("description", get=lambda v: v.description or None, writable=True),
        Field("status", get=lambda v: v.status.value, values=tuple(VmStatus)),
        Field("memory", Kind.INTEGER, get=lambda v: v.memory, writable=True),
        Field("memory_policy/guaranteed", Kind.INTEGER, get=lambda v: v.memory, detail=True),
        Field("memory_policy/max", Kind.INTEGER, get=lambda v: v.memory, detail=True),
        Field("cpu/architecture", get=lambda v: "x86_64", detail=True),
        Field("cpu/topology/sockets", Kind.INTEGER, get=lambda v: v.cpu_sockets,
              writable=True),
        Field("cpu/topology/cores", Kind.INTEGER, get=lambda v: v.cpu_cores, writable=True),
        Field("cpu/topology/threads", Kind.INTEGER, get=lambda v: v.cpu_threads,
              writable=True),
        Field("os/type", get=lambda v: v.os_type, writable=True),
        Field("os/boot/devices", Kind.STRINGS, get=lambda v: [b.value for b in v.boot],
              writable=True, item="device", values=tuple(BootDevice)),
        Field("display/type", get=lambda v: v.display.value, writable=True,
              values=tuple(DisplayType)),
        Field("high_availability/enabled", Kind.BOOLEAN, get=lambda v: v.high_availability,
              writable=True),
        Field("high_availability/priority", Kind.INTEGER, get=lambda v: 0, detail=True),
        Field("cluster", Kind.REF, get=lambda v: v.cluster_id, writable=True, ref="clusters"),
        Field("template", Kind.REF, get=lambda v: v.template_id, writable=True,
              ref="templates"),
        Field("original_template", Kind.REF, get=lambda v: v.template_id, ref="templates",
              detail=True),
        Field("host", Kind.REF, get=lambda v: v.host_id, ref="hosts"),
        Field("creation_time", Kind.DATE, get=lambda v: v.created),
        Field("start_time", Kind.DATE, get=lambda v: v.start_time or None),
        Field("stop_time", Kind.DATE, get=lambda v: v.stop_time or None),
        Field("stop_reason", get=lambda v: v.stop_reason or None),
        Field("type", get=lambda v: "server", detail=True),
        Field("origin", get=lambda v: "ovirt", detail=True),
        Field("stateless", Kind.BOOLEAN, get=lambda v: False, detail=True),
        Field("delete_protected", Kind.BOOLEAN, get=lambda v: False, detail=True),
        Field("placement_policy/affinity", get=lambda v: "migratable", detail=True),
        Field("run_once", Kind.BOOLEAN, get=lambda v: False, detail=True),
    ),
)

SEARCHABLE = {
    "name": lambda v: v.name,
    "id": lambda v: v.id,
    "status": lambda v: v.status.value,
    "description": lambda v: v.description,
    "memory": lambda v: v.memory,
    "cluster": lambda v: _cluster_name(v.cluster_id),
    "host": lambda v: _host_name(v.host_id),
    "template": lambda v: _template_name(v.template_id),
    "creationdate": lambda v: iso_time(v.created),
}


def install(routes: Routes) -> None:
    routes.add("/vms", Operation.LIST, tag="vm", summary="List VMs")(list_vms)
    routes.add("/vms", Operation.ADD, tag="vm", summary="Add a VM from a template")(add_vm)
    routes.add("/vms/<vm_id>", Operation.GET, tag="vm", summary="Get a VM")(get_vm)
    routes.add("/vms/<vm_id>", Operation.REMOVE, tag="vm", summary="Remove a VM")(remove_vm)
    routes.add("/vms/<vm_id>", Operation.UPDATE, tag="vm",
               summary="Edit a VM (hardware while it is down)")(update_vm)
    for name, summary in (("start", "Start (or resume) a VM"), ("stop", "Power off a VM"),
                          ("shutdown", "Shut a VM down through ACPI"),
                          ("reboot", "Reboot a VM"), ("reset", "Reset a VM"),
                          ("suspend", "Pause a VM (it keeps its memory)")):
        routes.add(f"/vms/<vm_id>/{name}", Operation.ACTION, tag="action",
                   summary=summary)(_action_view(name))


def followers() -> dict[str, listing.Follower]:
    return {**diskattachments.followers(), **nics.followers()}


def list_vms() -> Response:
    vms = http.engine().vms.list(actor=http.actor())
    return listing.list_response(VM, vms, searchable=SEARCHABLE, follow=followers())


def get_vm(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    return listing.object_response(VM, vm, follow=followers())


def add_vm() -> Response:
    engine = http.engine()
    node = http.read_node(VM.tag)
    values = VM.read(node)
    descriptor = ovf_configurations.configuration(node)
    if descriptor is not None:
        return ovf_configurations.create(VM, node, descriptor, template=False)
    name = values.get("name")
    if not name:
        raise InvalidInput("A new VM needs a <name>.")
    cluster = listing.resolve(engine.clusters, values.get("cluster"), noun="cluster",
                              default=engine.clusters.default)
    template = listing.resolve(engine.templates, values.get("template"), noun="template",
                               default=lambda: engine.templates.get(BLANK_TEMPLATE_ID))
    boot = values.get("os/boot/devices")
    request = VmCreate(
        name=name, cluster_id=cluster.id, template_id=template.id,
        memory=values.get("memory"), cpu_sockets=values.get("cpu/topology/sockets"),
        cpu_cores=values.get("cpu/topology/cores"),
        cpu_threads=values.get("cpu/topology/threads"),
        description=values.get("description", ""), os_type=values.get("os/type"),
        display=DisplayType(values["display/type"]) if "display/type" in values else None,
        boot=tuple(BootDevice(b) for b in boot) if boot else None,
        high_availability=values.get("high_availability/enabled", False),
        clone=http.query_flag("clone"),
    )
    vm = engine.vms.create(request, actor=http.actor())
    return http.respond_object(VM, vm, created=True)


def update_vm(vm_id: str) -> Response:
    """Name, description, memory, CPU sockets and boot order; other fields are refused
    when they differ from what the VM has (so clients learn the change did not happen)."""
    engine, actor = http.engine(), http.actor()
    values = http.read(VM)
    vm = engine.vms.get(vm_id, actor=actor)
    editable = {"name", "description", "memory", "cpu/topology/sockets", "os/boot/devices"}
    current = VM.render(vm)
    for path in sorted(set(values) - editable):
        if _differs(path, values[path], current):
            raise NotSupported(f"Changing <{path.replace('/', '><')}> of a VM is not "
                               "supported; editable are name, description, memory, CPU "
                               "sockets and boot devices.")
    boot = values.get("os/boot/devices")
    updated = engine.vm_updates.update(vm.id, VmUpdate(
        name=values.get("name"), description=values.get("description"),
        memory=values.get("memory"), cpu_sockets=values.get("cpu/topology/sockets"),
        boot=tuple(BootDevice(b) for b in boot) if boot else None), actor=actor)
    return http.respond_object(VM, updated)


def _differs(path: str, value: Any, current: dict[str, Any]) -> bool:
    node: Any = current
    for part in path.split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(value, dict):  # a reference: same id, or same name as ours
        return bool(value.get("id")) and bool(value["id"] != (node or {}).get("id"))
    if isinstance(value, bool):
        return bool(node != ("true" if value else "false"))
    return node is None or str(value) != str(node)


def remove_vm(vm_id: str) -> Response:
    keep_disks = http.query_flag("detach_only")
    http.engine().vms.remove(vm_id, actor=http.actor(), keep_disks=keep_disks)
    return Response(status=200)


def _action_view(name: str) -> Any:
    def view(vm_id: str) -> Response:
        http.read_action()
        return http.respond_action(_run_action(name, vm_id))

    view.__name__ = f"vm_{name}"
    return view


def _run_action(name: str, vm_id: str) -> Job:
    vms = http.engine().vms
    actor, correlation = http.actor(), http.correlation_id()
    action = {"start": vms.start_or_resume, "stop": vms.stop, "shutdown": vms.shutdown,
              "reboot": vms.reboot, "reset": vms.reset, "suspend": vms.pause}[name]
    return action(vm_id, actor=actor, correlation_id=correlation)


def _cluster_name(cluster_id: str) -> str:
    found = http.engine().clusters.find(cluster_id)
    return found.name if found else ""


def _host_name(host_id: str | None) -> str:
    found = http.engine().hosts.find(host_id) if host_id else None
    return found.name if found else ""


def _template_name(template_id: str) -> str:
    found = http.engine().templates.find(template_id)
    return found.name if found else ""


__all__ = ["VM", "Vm"]
