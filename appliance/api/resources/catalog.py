"""``/templates`` (with their disks and NICs) and ``/operatingsystems``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import ovf_configurations
from appliance.api.resources.vm_devices import DISK_ATTACHMENT, NIC
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import TemplateStatus
from appliance.engine.template_builder import TemplateFromVm
from appliance.errors import InvalidInput, NotFound

TEMPLATE = Type(
    tag="template", plural="templates", accepted=ovirtnames.TEMPLATE,
    links=("diskattachments", "nics", "permissions"), description="A template for VMs",
    fields=(
        Field("name", get=lambda t: t.name, writable=True),
        Field("description", get=lambda t: t.description, writable=True),
        Field("status", get=lambda t: t.status.value, values=tuple(TemplateStatus)),
        Field("memory", Kind.INTEGER, get=lambda t: t.memory),
        Field("cpu/topology/sockets", Kind.INTEGER, get=lambda t: t.cpu_sockets),
        Field("cpu/topology/cores", Kind.INTEGER, get=lambda t: t.cpu_cores),
        Field("cpu/topology/threads", Kind.INTEGER, get=lambda t: t.cpu_threads),
        Field("os/type", get=lambda t: t.os_type),
        Field("os/boot/devices", Kind.STRINGS, get=lambda t: [b.value for b in t.boot],
              item="device"),
        Field("display/type", get=lambda t: t.display.value),
        Field("cluster", Kind.REF, get=lambda t: t.cluster_id, ref="clusters"),
        Field("vm", Kind.REF, writable=True, ref="vms"),
        Field("creation_time", Kind.DATE, get=lambda t: t.created or None),
        Field("version/version_number", Kind.INTEGER, get=lambda t: t.version_number),
        Field("version/version_name", get=lambda t: t.version_name or None),
        Field("version/base_template", Kind.REF, ref="templates",
              get=lambda t: t.base_template_id or t.id),
        Field("type", get=lambda t: "server"),
        Field("stateless", Kind.BOOLEAN, get=lambda t: False),
    ),
)


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
    routes.add("/templates", Operation.LIST, tag="template",
               summary="List templates")(list_templates)
    routes.add("/templates", Operation.ADD, tag="template",
               summary="Make a template from a VM")(add_template)
    routes.add("/templates/<template_id>", Operation.GET, tag="template",
               summary="Get a template")(get_template)
    routes.add("/templates/<template_id>", Operation.REMOVE, tag="template",
               summary="Remove a template no VM uses")(remove_template)
    routes.add("/templates/<template_id>/diskattachments", Operation.LIST,
               tag="disk_attachment", summary="A template's disks")(list_template_disks)
    routes.add("/templates/<template_id>/nics", Operation.LIST, tag="nic",
               summary="A template's NICs")(list_template_nics)
    routes.add("/operatingsystems", Operation.LIST, tag="operating_system",
               summary="List operating systems")(list_operating_systems)
    routes.add("/operatingsystems/<os_id>", Operation.GET, tag="operating_system",
               summary="Get an operating system")(get_operating_system)


def list_templates() -> Response:
    return listing.list_response(TEMPLATE, http.engine().templates.list())


def get_template(template_id: str) -> Response:
    return http.respond_object(TEMPLATE, http.engine().store.templates.get(template_id))


def add_template() -> Response:
    """``<template><name>t</name><vm id="..."/></template>``: copied by a job; the template
    is locked until it ends. A ``<version><base_template id=.../></version>`` makes a new
    version of that template."""
    engine = http.engine()
    node = http.read_node(TEMPLATE.tag)
    values = TEMPLATE.read(node)
    descriptor = ovf_configurations.configuration(node)
    if descriptor is not None:
        return ovf_configurations.create(TEMPLATE, node, descriptor, template=True)
    vm_ref = values.get("vm")
    if not vm_ref:
        raise InvalidInput("A template is made from a VM: send <vm id=\"...\"/>.")
    vm = listing.resolve(engine.store.vms, vm_ref, noun="VM")
    engine.vms.get(vm.id, actor=http.actor())
    version = node.get("version") if isinstance(node.get("version"), dict) else {}
    base = version.get("base_template") if isinstance(version, dict) else None
    request = TemplateFromVm(
        vm_id=vm.id, name=values.get("name", ""), description=values.get("description", ""),
        base_template_id=base.get("id") if isinstance(base, dict) else None,
        version_name=str(version.get("version_name", "")) if isinstance(version, dict) else "")
    if not request.name and request.base_template_id is None:
        raise InvalidInput("A new template needs a <name>.")
    started = engine.template_builder.create_from_vm(request, actor=http.actor(),
                                                     correlation_id=http.correlation_id())
    return http.respond_object(TEMPLATE, started.template, created=True)


def remove_template(template_id: str) -> Response:
    http.engine().templates.remove(template_id, actor=http.actor())
    return Response(status=200)


def list_template_disks(template_id: str) -> Response:
    store = http.engine().store
    template = store.templates.get(template_id)
    nodes: list[Node] = [
        DISK_ATTACHMENT.render(a, href=http.href("templates", template.id, "diskattachments",
                                                 a.id))
        for a in store.attachments.where(vm_id=template.id)]
    for node in nodes:
        node.pop("vm", None)
        node["template"] = {"href": http.href("templates", template.id), "id": template.id}
    return http.respond_list(DISK_ATTACHMENT, nodes)


def list_template_nics(template_id: str) -> Response:
    store = http.engine().store
    template = store.templates.get(template_id)
    nodes = [NIC.render(n, href=http.href("templates", template.id, "nics", n.id))
             for n in store.nics.where(vm_id=template.id)]
    for node in nodes:
        node.pop("vm", None)
    return http.respond_list(NIC, nodes)


def list_operating_systems() -> Response:
    return listing.list_response(OPERATING_SYSTEM, list(OPERATING_SYSTEMS))


def get_operating_system(os_id: str) -> Response:
    for system in OPERATING_SYSTEMS:
        if system.id == os_id:
            return http.respond_object(OPERATING_SYSTEM, system)
    raise NotFound(f"There is no operating system with id '{os_id[:40]}'.")
