"""A VM as oVirt's clients read and write it: the field table, the settings read from a
``<vm>`` body for the engine (new VM or edit), and the ``<initialization>`` answered back
(with the VM's OVF under ``all_content``, as oVirt gives it)."""

from __future__ import annotations

from typing import Any

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import vmpools
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import (
    BootDevice,
    DisplayType,
    SerialNumberPolicy,
    VmAffinity,
    VmStatus,
)
from appliance.engine.model import SerialNumber, Vm, VmPlacement
from appliance.engine.vm_updates import VmUpdate
from appliance.errors import InvalidInput, NotSupported

VM_LINKS = ("diskattachments", "nics", "snapshots", "cdroms", "graphicsconsoles",
            "permissions", "statistics", "numanodes", "watchdogs", "hostdevices",
            "mediateddevices", "reporteddevices", "sessions", "applications", "katelloerrata",
            "tags", "affinitylabels", "backups", "checkpoints")

VM = Type(
    tag="vm", plural="vms", links=VM_LINKS, accepted=ovirtnames.VM,
    description="A virtual machine",
    fields=(
        Field("name", get=lambda v: v.name, writable=True),
        Field("description", get=lambda v: v.description or None, writable=True),
        Field("status", get=lambda v: v.status.value, values=tuple(VmStatus)),
        Field("memory", Kind.INTEGER, get=lambda v: v.memory, writable=True),
        Field("memory_policy/guaranteed", Kind.INTEGER, get=lambda v: v.guaranteed_memory,
              writable=True),
        Field("memory_policy/max", Kind.INTEGER, get=lambda v: v.max_memory, writable=True),
        Field("memory_policy/ballooning", Kind.BOOLEAN, get=lambda v: True, detail=True),
        Field("cpu/architecture", get=lambda v: "x86_64", detail=True),
        Field("cpu/topology/sockets", Kind.INTEGER, get=lambda v: v.cpu_sockets,
              writable=True),
        Field("cpu/topology/cores", Kind.INTEGER, get=lambda v: v.cpu_cores, writable=True),
        Field("cpu/topology/threads", Kind.INTEGER, get=lambda v: v.cpu_threads,
              writable=True),
        Field("bios/type", get=lambda v: "i440fx_sea_bios", detail=True),  # pc, SeaBIOS
        Field("bios/boot_menu/enabled", Kind.BOOLEAN, get=lambda v: False, detail=True),
        Field("usb/enabled", Kind.BOOLEAN, get=lambda v: False, detail=True),
        Field("io/threads", Kind.INTEGER, get=lambda v: 0, detail=True),
        Field("os/type", get=lambda v: v.os_type, writable=True),
        Field("os/boot/devices", Kind.STRINGS, get=lambda v: [b.value for b in v.boot],
              writable=True, item="device", values=tuple(BootDevice)),
        Field("display/type", get=lambda v: v.display.value, writable=True,
              values=tuple(DisplayType)),
        Field("high_availability/enabled", Kind.BOOLEAN, get=lambda v: v.high_availability,
              writable=True),
        Field("high_availability/priority", Kind.INTEGER, get=lambda v: 0, detail=True),
        Field("lease/storage_domain", Kind.REF, get=lambda v: v.lease_storage_domain_id or None,
              writable=True, ref="storagedomains"),
        Field("cluster", Kind.REF, get=lambda v: v.cluster_id, writable=True, ref="clusters"),
        Field("template", Kind.REF, get=lambda v: v.template_id, writable=True,
              ref="templates"),
        Field("original_template", Kind.REF, get=lambda v: v.template_id, ref="templates",
              detail=True),
        Field("host", Kind.REF, get=lambda v: v.host_id, ref="hosts"),
        Field("vm_pool", Kind.REF, get=lambda v: vmpools.pool_of(v.id), ref="vmpools"),
        Field("creation_time", Kind.DATE, get=lambda v: v.created),
        Field("start_time", Kind.DATE, get=lambda v: v.start_time or None),
        Field("stop_time", Kind.DATE, get=lambda v: v.stop_time or None),
        Field("stop_reason", get=lambda v: v.stop_reason or None),
        Field("serial_number/policy", writable=True, values=tuple(SerialNumberPolicy),
              get=lambda v: v.serial_number.policy.value if v.serial_number else None),
        Field("serial_number/value", writable=True,
              get=lambda v: v.serial_number.value or None if v.serial_number else None),
        Field("placement_policy/affinity", get=lambda v: v.placement.affinity.value,
              writable=True, values=tuple(VmAffinity)),
        Field("placement_policy/hosts", Kind.REFS, get=lambda v: v.placement.host_ids,
              writable=True, ref="hosts", item="host"),
        # The serial console (a unix socket with its log) is always there.
        Field("console/enabled", Kind.BOOLEAN, get=lambda v: True, writable=True,
              detail=True),
        Field("type", get=lambda v: "server", detail=True),
        Field("origin", get=lambda v: "ovirt", detail=True),
        Field("stateless", Kind.BOOLEAN, get=lambda v: False, detail=True),
        Field("delete_protected", Kind.BOOLEAN, get=lambda v: False, detail=True),
        Field("run_once", Kind.BOOLEAN, get=lambda v: False, detail=True),
    ),
)

# What may change in PUT /vms/{id}; other fields sent must be what the VM has.
EDITABLE = frozenset({
    "name", "description", "memory", "memory_policy/guaranteed", "memory_policy/max",
    "cpu/topology/sockets", "cpu/topology/cores", "cpu/topology/threads", "os/type",
    "os/boot/devices", "display/type", "high_availability/enabled", "lease/storage_domain",
    "serial_number/policy", "serial_number/value", "placement_policy/affinity",
    "placement_policy/hosts", "console/enabled"})

# <initialization> elements kept as sent: cloud-init's and sysprep's plain settings.
# (A root password is never kept in clear; <configuration> is the OVF, answered back.)
INITIALIZATION = frozenset({
    "active_directory_ou", "authorized_ssh_keys", "cloud_init_network_protocol",
    "custom_script", "dns_search", "dns_servers", "domain", "host_name", "input_locale",
    "org_name", "regenerate_ids", "regenerate_ssh_keys", "system_locale", "timezone",
    "ui_language", "user_locale", "user_name", "windows_license_key"})


def render(vm: Vm, *, detail: bool = True) -> Node:
    """The VM; ``<initialization>`` with what was kept, and under ``all_content`` the VM's
    OVF as its ``<configuration>``."""
    node = VM.render(vm, detail=detail)
    initialization: Node = dict(vm.initialization)
    if http.query_flag("all_content"):
        initialization["configuration"] = {
            "type": "ovf", "data": http.engine().ova_exporter.get_ovf(vm.id,
                                                                      actor=http.actor())}
    if initialization:
        node["initialization"] = initialization
    return node


def settings(node: Node, values: dict[str, Any], vm: Vm | None = None) -> dict[str, Any]:
    """The settings a ``<vm>`` body gives beyond its hardware, as the engine's request
    fields: only those sent (for an edit, ``vm`` is the VM as it is)."""
    found: dict[str, Any] = {}
    if "memory_policy/guaranteed" in values:
        found["memory_guaranteed"] = values["memory_policy/guaranteed"]
    if "memory_policy/max" in values:
        found["memory_max"] = values["memory_policy/max"]
    if "serial_number/policy" in values or "serial_number/value" in values:
        found["serial_number"] = _serial_number(values, vm)
    if "placement_policy/affinity" in values or "placement_policy/hosts" in values:
        found["placement"] = _placement(values, vm)
    if isinstance(node.get("initialization"), dict):
        found["initialization"] = _initialization(node["initialization"])
    lease = values.get("lease/storage_domain")
    if lease:
        found["lease_storage_domain_id"] = listing.resolve(
            http.engine().storage_domains, lease, noun="storage domain").id
    if values.get("console/enabled") is False:
        raise NotSupported("A VM's serial console cannot be turned off: every VM has one.")
    return found


def update_request(node: Node, values: dict[str, Any], vm: Vm) -> VmUpdate:
    boot = values.get("os/boot/devices")
    display = values.get("display/type")
    return VmUpdate(
        name=values.get("name"), description=values.get("description"),
        memory=values.get("memory"), cpu_sockets=values.get("cpu/topology/sockets"),
        cpu_cores=values.get("cpu/topology/cores"),
        cpu_threads=values.get("cpu/topology/threads"),
        boot=tuple(BootDevice(b) for b in boot) if boot else None,
        display=DisplayType(display) if display else None, os_type=values.get("os/type"),
        high_availability=values.get("high_availability/enabled"),
        **settings(node, values, vm))


def _serial_number(values: dict[str, Any], vm: Vm | None) -> SerialNumber:
    current = vm.serial_number if vm is not None else None
    policy = values.get("serial_number/policy") or (current.policy.value if current else "")
    if not policy:
        raise InvalidInput("<serial_number> needs a <policy>: host, vm or custom.")
    return SerialNumber(SerialNumberPolicy(policy), str(values.get("serial_number/value", "")))


def _placement(values: dict[str, Any], vm: Vm | None) -> VmPlacement:
    current = vm.placement if vm is not None else VmPlacement()
    affinity = values.get("placement_policy/affinity")
    hosts = values.get("placement_policy/hosts")
    host_ids = current.host_ids if hosts is None else tuple(
        listing.resolve(http.engine().hosts, ref, noun="host").id for ref in hosts)
    return VmPlacement(VmAffinity(affinity) if affinity else current.affinity, host_ids)


def _initialization(node: Node) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, value) for key, value in node.items()
                        if key in INITIALIZATION and isinstance(value, str)))
