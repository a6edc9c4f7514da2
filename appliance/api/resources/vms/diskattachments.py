"""``/vms/{id}/diskattachments``: a VM's disks as it uses them; attach an existing disk or a
new empty one, change how the VM uses it (plug, unplug, bootable, bus) and the disk itself
(``<disk><provisioned_size>``: grow it), detach (keeping the disk, or removing it)."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import disks
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, ref
from appliance.engine.enums import DiskInterface
from appliance.engine.model import DiskAttachment, Vm
from appliance.engine.vms import AttachmentUpdate
from appliance.errors import InvalidInput, NotFound

DISK_ATTACHMENT = Type(
    tag="disk_attachment", plural="diskattachments", accepted=ovirtnames.DISK_ATTACHMENT,
    description="A disk as one VM uses it",
    fields=(
        Field("bootable", Kind.BOOLEAN, get=lambda a: a.bootable, writable=True),
        Field("interface", get=lambda a: a.interface.value, writable=True,
              values=tuple(DiskInterface)),
        Field("active", Kind.BOOLEAN, get=lambda a: a.active, writable=True),
        Field("read_only", Kind.BOOLEAN, get=lambda a: a.read_only),
        Field("pass_discard", Kind.BOOLEAN, get=lambda a: False),
        Field("uses_scsi_reservation", Kind.BOOLEAN, get=lambda a: False),
        Field("disk", Kind.REF, get=lambda a: a.disk_id, writable=True, ref="disks"),
        Field("vm", Kind.REF, get=lambda a: a.vm_id, ref="vms"),
    ),
)


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/diskattachments"
    routes.add(base, Operation.LIST, tag="disk_attachment",
               summary="List a VM's disk attachments")(list_attachments)
    routes.add(base, Operation.ADD, tag="disk_attachment",
               summary="Attach a new or existing disk to a VM")(add_attachment)
    routes.add(f"{base}/<attachment_id>", Operation.GET, tag="disk_attachment",
               summary="Get a disk attachment")(get_attachment)
    routes.add(f"{base}/<attachment_id>", Operation.UPDATE, tag="disk_attachment",
               summary="Plug, unplug or make bootable a VM's disk; rename or grow the disk")(
                   update_attachment)
    routes.add(f"{base}/<attachment_id>", Operation.REMOVE,
               tag="disk_attachment", summary="Detach a disk (kept) from a VM; "
               "with detach_only=false it is removed")(remove_attachment)


def followers() -> dict[str, listing.Follower]:
    """What a VM can embed: ``follow=disk_attachments`` or ``disk_attachments.disk``."""
    return {
        "disk_attachments": lambda vm, node: _embed(vm, node, with_disks=False),
        "disk_attachments.disk": lambda vm, node: _embed(vm, node, with_disks=True),
    }


def list_attachments(vm_id: str) -> Response:
    return listing.list_response(DISK_ATTACHMENT, _attachments(vm_id), render=render)


def get_attachment(vm_id: str, attachment_id: str) -> Response:
    attachment = http.engine().vms.get_disk_attachment(vm_id, attachment_id,
                                                       actor=http.actor())
    return http.respond(DISK_ATTACHMENT.tag, render(attachment))


def add_attachment(vm_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    vm = engine.vms.get(vm_id, actor=actor)
    node = http.read_node(DISK_ATTACHMENT.tag)
    values = DISK_ATTACHMENT.read(node)
    disk_node = node.get("disk")
    if not isinstance(disk_node, dict):
        raise InvalidInput("A disk attachment needs a <disk>: an existing one by id, or a new "
                           "one with name, provisioned_size and storage_domains.")
    how = {"interface": DiskInterface(values.get("interface", DiskInterface.VIRTIO.value)),
           "bootable": values.get("bootable", False), "active": values.get("active", True)}
    if disk_node.get("id"):
        attachment = engine.vms.attach_disk(vm.id, disk_node["id"], actor=actor, **how)
    else:
        attachment = engine.vms.attach_new_disk(
            vm.id, disks.request_from(disks.DISK.read(disk_node)), actor=actor, **how)
    node_out = render(attachment)
    return http.respond(DISK_ATTACHMENT.tag, node_out, status=201, location=node_out["href"])


def update_attachment(vm_id: str, attachment_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    node = http.read_node(DISK_ATTACHMENT.tag)
    # <disk> here is the disk's own fields to change, not a reference to another disk
    values = DISK_ATTACHMENT.read({k: v for k, v in node.items() if k != "disk"})
    attachment = engine.vms.get_disk_attachment(vm_id, attachment_id, actor=actor)
    disk_node = node.get("disk")
    disk_change = None
    if isinstance(disk_node, dict):
        disk = engine.disks.get(attachment.disk_id, actor=actor)
        disk_change = disks.update_request(disks.DISK.read(
            {k: v for k, v in disk_node.items() if k != "storage_domains"}), disk)
    interface = values.get("interface")
    updated = engine.vms.update_disk_attachment(
        attachment.vm_id, attachment.id, AttachmentUpdate(
            active=values.get("active"), bootable=values.get("bootable"),
            interface=DiskInterface(interface) if interface else None),
        disk=disk_change, actor=actor)
    return http.respond(DISK_ATTACHMENT.tag, render(updated))


def remove_attachment(vm_id: str, attachment_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    attachment = engine.vms.get_disk_attachment(vm_id, attachment_id, actor=actor)
    engine.vms.detach_disk(attachment.vm_id, attachment.disk_id, actor=actor,
                           remove=not http.query_flag("detach_only", True))
    return Response(status=200)


def render(attachment: DiskAttachment) -> Node:
    return DISK_ATTACHMENT.render(attachment, href=http.href(
        "vms", attachment.vm_id, "diskattachments", attachment.id))


def _attachments(vm_id: str) -> list[DiskAttachment]:
    return http.engine().vms.list_disk_attachments(vm_id, actor=http.actor())


def _embed(vm: Vm, node: Node, *, with_disks: bool) -> None:
    rendered = []
    for attachment in _attachments(vm.id):
        item = render(attachment)
        if with_disks:
            item["disk"] = _disk_node(attachment.disk_id)
        rendered.append(item)
    node["disk_attachments"] = {"disk_attachment": rendered}


def _disk_node(disk_id: str) -> Node | None:
    try:
        return disks.DISK.render(http.engine().disks.get(disk_id, actor=http.actor()))
    except NotFound:  # removed since the attachment was read
        return ref("disks", disk_id)
