"""``/vms/{id}/cdroms``: a VM's one CD-ROM drive, and the ISO image in it (insert or eject
with ``PUT`` and ``<cdrom><file id="..."/></cdrom>``; ISOs are uploaded to
``/storagedomains/{id}/isoimages``)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, ovirtnames
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.model import Vm
from appliance.errors import NotFound

CDROM_ID = "00000000-0000-0000-0000-000000000000"  # oVirt's id of a VM's one CD-ROM
CDROM = Type(tag="cdrom", plural="cdroms", accepted=ovirtnames.CDROM,
             description="The CD-ROM drive of a VM",
             fields=(Field("file", Kind.REF, get=lambda c: c["file"], ref="files"),
                     Field("vm", Kind.REF, get=lambda c: c["vm"], ref="vms")))


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/cdroms"
    routes.add(base, Operation.LIST, tag="cdrom",
               summary="List a VM's CD-ROM drives")(list_cdroms)
    routes.add(f"{base}/<cdrom_id>", Operation.GET, tag="cdrom",
               summary="Get a CD-ROM drive")(get_cdrom)
    routes.add(f"{base}/<cdrom_id>", Operation.UPDATE, tag="cdrom",
               summary="Insert or eject the CD-ROM's ISO image")(update_cdrom)


def list_cdroms(vm_id: str) -> Response:
    vm = _vm(vm_id)
    return http.respond_list(CDROM, [_render(vm)])


def get_cdrom(vm_id: str, cdrom_id: str) -> Response:
    vm = _vm(vm_id)
    if cdrom_id != CDROM_ID:
        raise NotFound(f"VM '{vm.name}' has no CD-ROM with id '{cdrom_id[:60]}'.")
    return http.respond(CDROM.tag, _render(vm))


def update_cdrom(vm_id: str, cdrom_id: str) -> Response:
    if cdrom_id != CDROM_ID:
        raise NotFound(f"VM {vm_id} has no CD-ROM with id '{cdrom_id[:60]}'.")
    node = http.read_node(CDROM.tag)
    file: Any = node.get("file")
    iso_id = str(file.get("id", "")) if isinstance(file, dict) else ""
    vm = http.engine().isos.insert(vm_id, iso_id, actor=http.actor(),
                                   boot_first=http.query_flag("boot_first"))
    return http.respond(CDROM.tag, CDROM.render(
        {"file": vm.cdrom_file_id or None, "vm": vm.id},
        href=http.href("vms", vm.id, "cdroms", CDROM_ID)))


def _vm(vm_id: str) -> Vm:
    return http.engine().vms.get(vm_id, actor=http.actor())


def _render(vm: Vm) -> Node:
    node = CDROM.render({"file": {"id": vm.cdrom_file_id} if vm.cdrom_file_id else None,
                         "vm": vm.id}, href=http.href("vms", vm.id, "cdroms", CDROM_ID))
    node["id"] = CDROM_ID
    return node
