"""The devices below a VM: ``diskattachments``, ``nics``, ``cdroms``, ``graphicsconsoles``
and ``statistics`` (in statistics.py)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import disks
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, ref
from appliance.engine.enums import DiskInterface, NicInterface
from appliance.engine.model import DiskAttachment, Nic, Vm
from appliance.engine.vms import NicCreate
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

NIC = Type(
    tag="nic", plural="nics", accepted=ovirtnames.NIC, links=("statistics",),
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

CDROM_ID = "00000000-0000-0000-0000-000000000000"  # oVirt's id of a VM's one CD-ROM
CDROM = Type(tag="cdrom", plural="cdroms", accepted=ovirtnames.CDROM,
             description="The CD-ROM drive of a VM",
             fields=(Field("file", Kind.REF, get=lambda c: c["file"], ref="files"),
                     Field("vm", Kind.REF, get=lambda c: c["vm"], ref="vms")))

GRAPHICS_CONSOLE = Type(tag="graphics_console", plural="graphicsconsoles",
                        description="The graphical console of a VM",
                        fields=(Field("protocol", get=lambda c: c["protocol"]),
                                Field("vm", Kind.REF, get=lambda c: c["vm"], ref="vms")))

def install(routes: Routes) -> None:
    base = "/vms/<vm_id>"
    routes.add(f"{base}/diskattachments", Operation.LIST, tag="disk_attachment",
               summary="List a VM's disk attachments")(list_attachments)
    routes.add(f"{base}/diskattachments", Operation.ADD, tag="disk_attachment",
               summary="Attach a new or existing disk to a VM")(add_attachment)
    routes.add(f"{base}/diskattachments/<attachment_id>", Operation.GET, tag="disk_attachment",
               summary="Get a disk attachment")(get_attachment)
    routes.add(f"{base}/diskattachments/<attachment_id>", Operation.REMOVE,
               tag="disk_attachment", summary="Detach a disk (kept) from a VM; "
               "with detach_only=false it is removed")(remove_attachment)
    routes.add(f"{base}/nics", Operation.LIST, tag="nic", summary="List a VM's NICs")(list_nics)
    routes.add(f"{base}/nics", Operation.ADD, tag="nic", summary="Add a NIC")(add_nic)
    routes.add(f"{base}/nics/<nic_id>", Operation.GET, tag="nic", summary="Get a NIC")(get_nic)
    routes.add(f"{base}/nics/<nic_id>", Operation.REMOVE, tag="nic",
               summary="Remove a NIC")(remove_nic)
    routes.add(f"{base}/cdroms", Operation.LIST, tag="cdrom",
               summary="List a VM's CD-ROM drives")(list_cdroms)
    routes.add(f"{base}/cdroms/<cdrom_id>", Operation.GET, tag="cdrom",
               summary="Get a CD-ROM drive")(get_cdrom)
    routes.add(f"{base}/graphicsconsoles", Operation.LIST, tag="graphics_console",
               summary="List a VM's graphical consoles")(list_consoles)


def vm_followers() -> dict[str, listing.Follower]:
    return {
        "disk_attachments": lambda vm, node: _embed_attachments(vm, node, with_disks=False),
        "disk_attachments.disk": lambda vm, node: _embed_attachments(vm, node, with_disks=True),
        "nics": lambda vm, node: node.__setitem__(
            "nics", {"nic": [_render_nic(n) for n in _nics(vm)]}),
    }


# Disk attachments

def list_attachments(vm_id: str) -> Response:
    vm = _vm(vm_id)
    return listing.list_response(DISK_ATTACHMENT, _attachments(vm),
                                 render=_render_attachment)


def get_attachment(vm_id: str, attachment_id: str) -> Response:
    attachment = http.engine().vms.get_disk_attachment(vm_id, attachment_id,
                                                       actor=http.actor())
    return http.respond(DISK_ATTACHMENT.tag, _render_attachment(attachment))


def add_attachment(vm_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    vm = _vm(vm_id)
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
    node_out = _render_attachment(attachment)
    return http.respond(DISK_ATTACHMENT.tag, node_out, status=201, location=node_out["href"])


def remove_attachment(vm_id: str, attachment_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    attachment = engine.vms.get_disk_attachment(vm_id, attachment_id, actor=actor)
    engine.vms.detach_disk(attachment.vm_id, attachment.disk_id, actor=actor,
                           remove=not http.query_flag("detach_only", True))
    return Response(status=200)


# NICs

def list_nics(vm_id: str) -> Response:
    return listing.list_response(NIC, _nics(_vm(vm_id)), render=_render_nic)


def get_nic(vm_id: str, nic_id: str) -> Response:
    nic = http.engine().vms.get_nic(vm_id, nic_id, actor=http.actor())
    return http.respond(NIC.tag, _render_nic(nic))


def add_nic(vm_id: str) -> Response:
    engine = http.engine()
    vm = _vm(vm_id)
    values = http.read(NIC)
    profile_id = _profile_id(values)
    nic = engine.vms.add_nic(vm.id, NicCreate(
        name=values.get("name") or f"nic{len(_nics(vm)) + 1}", vnic_profile_id=profile_id,
        interface=NicInterface(values.get("interface", NicInterface.VIRTIO.value)),
        mac=values.get("mac/address") or None, linked=values.get("linked", True)),
        actor=http.actor())
    node = _render_nic(nic)
    return http.respond(NIC.tag, node, status=201, location=node["href"])


def remove_nic(vm_id: str, nic_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    nic = engine.vms.get_nic(vm_id, nic_id, actor=actor)
    engine.vms.remove_nic(nic.vm_id, nic.id, actor=actor)
    return Response(status=200)


def _profile_id(values: dict[str, Any]) -> str | None:
    engine = http.engine()
    if "vnic_profile" in values:
        return listing.resolve(engine.vnic_profiles, values["vnic_profile"],
                               noun="vNIC profile").id
    if "network" in values:  # the API v3 way: a network, meaning its profile
        network = listing.resolve(engine.networks, values["network"], noun="network")
        return engine.networks.default_profile(network.id).id
    return None


# CD-ROMs and consoles (statistics: resources/statistics.py)

def list_cdroms(vm_id: str) -> Response:
    vm = _vm(vm_id)
    return http.respond_list(CDROM, [_render_cdrom(vm)])


def get_cdrom(vm_id: str, cdrom_id: str) -> Response:
    vm = _vm(vm_id)
    if cdrom_id != CDROM_ID:
        raise NotFound(f"VM '{vm.name}' has no CD-ROM with id '{cdrom_id[:60]}'.")
    return http.respond(CDROM.tag, _render_cdrom(vm))


def list_consoles(vm_id: str) -> Response:
    vm = _vm(vm_id)
    protocol = vm.display.value
    console_id = protocol.encode().hex()  # oVirt's ids: hex of the protocol name
    node = GRAPHICS_CONSOLE.render({"protocol": protocol, "vm": vm.id},
                                   href=http.href("vms", vm.id, "graphicsconsoles", console_id))
    node["id"] = console_id
    return http.respond_list(GRAPHICS_CONSOLE, [node])


# Helpers

def _vm(vm_id: str) -> Vm:
    return http.engine().vms.get(vm_id, actor=http.actor())


def _attachments(vm: Vm) -> list[DiskAttachment]:
    return http.engine().vms.list_disk_attachments(vm.id, actor=http.actor())


def _nics(vm: Vm) -> list[Nic]:
    return http.engine().vms.list_nics(vm.id, actor=http.actor())


def _render_attachment(attachment: DiskAttachment) -> Node:
    return DISK_ATTACHMENT.render(attachment, href=http.href(
        "vms", attachment.vm_id, "diskattachments", attachment.id))


def _render_nic(nic: Nic) -> Node:
    return NIC.render(nic, href=http.href("vms", nic.vm_id, "nics", nic.id))


def _render_cdrom(vm: Vm) -> Node:
    node = CDROM.render({"file": {"id": vm.cdrom_file_id} if vm.cdrom_file_id else None,
                         "vm": vm.id}, href=http.href("vms", vm.id, "cdroms", CDROM_ID))
    node["id"] = CDROM_ID
    return node


def _embed_attachments(vm: Vm, node: Node, *, with_disks: bool) -> None:
    rendered = []
    for attachment in _attachments(vm):
        item = _render_attachment(attachment)
        if with_disks:
            item["disk"] = _disk_node(attachment.disk_id)
        rendered.append(item)
    node["disk_attachments"] = {"disk_attachment": rendered}


def _disk_node(disk_id: str) -> Node | None:
    try:
        return disks.DISK.render(http.engine().disks.get(disk_id, actor=http.actor()))
    except NotFound:  # removed since the attachment was read
        return ref("disks", disk_id)
