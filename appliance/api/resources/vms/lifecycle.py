"""``/vms``: list, get, add, edit, remove and the lifecycle actions of VMs (start, stop,
shutdown, reboot, reset, suspend: saved to disk, as oVirt suspends)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.resources import ovf_configurations, vmpools
from appliance.api.resources.vms import clone, diskattachments, fields, nics
from appliance.api.resources.vms.fields import VM
from appliance.api.routing import Operation, Routes
from appliance.api.schema import iso_time
from appliance.engine.enums import BootDevice, DisplayType
from appliance.engine.model import BLANK_TEMPLATE_ID, Job, Vm
from appliance.engine.vms import VmCreate
from appliance.errors import InvalidInput, NotSupported

SEARCHABLE: terms.Terms = {
    **terms.basic("status", "memory"),
    "cluster": lambda v: terms.cluster_name(v.cluster_id),
    "datacenter": lambda v: terms.cluster_data_center_name(v.cluster_id),
    "host": lambda v: terms.host_name(v.host_id),
    "template": lambda v: terms.template_name(v.template_id),
    "tag": lambda v: terms.tag_names(v.id),
    "pool": lambda v: vmpools.pool_name_of(v.id),
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
                          ("suspend", "Suspend a VM to disk (its state is saved; start "
                                      "restores it)")):
        routes.add(f"/vms/<vm_id>/{name}", Operation.ACTION, tag="action",
                   summary=summary)(_action_view(name))


def followers() -> dict[str, listing.Follower]:
    return {**diskattachments.followers(), **nics.followers()}


def list_vms() -> Response:
    vms = http.engine().vms.list(actor=http.actor())
    # all_content answers each VM's OVF, which the fast list writer does not know
    render = fields.render if http.query_flag("all_content") else None
    return listing.list_response(VM, vms, searchable=SEARCHABLE, follow=followers(),
                                 render=render)


def get_vm(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    return listing.object_response(VM, vm, node=fields.render(vm), follow=followers())


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
    snapshot_id = clone.snapshot_named(node)
    if snapshot_id is not None:
        return clone.add_from_snapshot(snapshot_id, values)
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
        clone=http.query_flag("clone"), **fields.settings(node, values),
    )
    if isinstance(node.get("instance_type"), dict):
        sizes = listing.resolve(engine.instance_types, node["instance_type"],
                                noun="instance type")
        request = engine.instance_types.sized(sizes.id, request)
    vm = engine.vms.create(request, actor=http.actor())
    return http.respond(VM.tag, fields.render(vm), status=201,
                        location=http.href("vms", vm.id))


def update_vm(vm_id: str) -> Response:
    """What ``fields.EDITABLE`` names; other fields are refused when they differ from what
    the VM has (so clients learn the change did not happen)."""
    engine, actor = http.engine(), http.actor()
    node = http.read_node(VM.tag)
    values = VM.read(node)
    vm = engine.vms.get(vm_id, actor=actor)
    current = VM.render(vm)
    for path in sorted(set(values) - fields.EDITABLE):
        if _differs(path, values[path], current):
            raise NotSupported(f"Changing <{path.replace('/', '><')}> of a VM is not "
                               "supported; a VM's cluster and template stay as made.")
    updated = engine.vm_updates.update(vm.id, fields.update_request(node, values, vm),
                                       actor=actor)
    return http.respond(VM.tag, fields.render(updated))


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
              "reboot": vms.reboot, "reset": vms.reset,
              "suspend": http.engine().suspensions.suspend}[name]
    return action(vm_id, actor=actor, correlation_id=correlation)


__all__ = ["VM", "Vm"]
