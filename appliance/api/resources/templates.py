"""``/templates``: templates for VMs (Blank, imported, or made from a VM by a job, with
versions), their disks and NICs, and their export as OVA."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import ovf_configurations
from appliance.api.resources.vms.diskattachments import DISK_ATTACHMENT
from appliance.api.resources.vms.export import read_export_target
from appliance.api.resources.vms.nics import NIC
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import TemplateStatus
from appliance.engine.template_builder import TemplateFromVm
from appliance.errors import InvalidInput

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
    routes.add("/templates/<template_id>/export", Operation.ACTION, tag="action",
               summary="Export a template to an OVA on the host")(export_template)


def list_templates() -> Response:
    return listing.list_response(TEMPLATE, http.engine().templates.list())


def get_template(template_id: str) -> Response:
    return http.respond_object(TEMPLATE, http.engine().templates.get(template_id))


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
    vm = listing.resolve(listing.VisibleVms(), vm_ref, noun="VM")
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
    attachments = http.engine().templates.list_disk_attachments(template_id)
    nodes: list[Node] = [
        DISK_ATTACHMENT.render(a, href=http.href("templates", template_id, "diskattachments",
                                                 a.id))
        for a in attachments]
    for node in nodes:
        node.pop("vm", None)
        node["template"] = {"href": http.href("templates", template_id), "id": template_id}
    return http.respond_list(DISK_ATTACHMENT, nodes)


def list_template_nics(template_id: str) -> Response:
    nodes = [NIC.render(n, href=http.href("templates", template_id, "nics", n.id))
             for n in http.engine().templates.list_nics(template_id)]
    for node in nodes:
        node.pop("vm", None)
    return http.respond_list(NIC, nodes)


def export_template(template_id: str) -> Response:
    directory, filename = read_export_target()
    job = http.engine().ova_exporter.export_template(
        template_id, directory=directory, filename=filename, actor=http.actor(),
        correlation_id=http.correlation_id())
    return http.respond_action(job)
