"""``/disks``: the disks of every VM and template, and free disks made through the API."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import DiskContentType, DiskFormat, DiskStatus
from appliance.engine.model import Disk
from appliance.engine.storage import DiskCreate
from appliance.errors import InvalidInput

DISK = Type(
    tag="disk", plural="disks", accepted=ovirtnames.DISK, links=("permissions", "statistics"),
    description="A virtual disk (a chain of qcow2 volumes)",
    fields=(
        Field("name", get=lambda d: d.name, writable=True),
        Field("alias", get=lambda d: d.name, writable=True),
        Field("description", get=lambda d: d.description, writable=True),
        Field("provisioned_size", Kind.INTEGER, get=lambda d: d.provisioned_size,
              writable=True),
        Field("format", get=lambda d: d.format.value, writable=True, values=tuple(DiskFormat)),
        Field("sparse", Kind.BOOLEAN, get=lambda d: d.sparse, writable=True),
        Field("status", get=lambda d: d.status.value, values=tuple(DiskStatus)),
        Field("shareable", Kind.BOOLEAN, get=lambda d: d.shareable),
        Field("storage_type", get=lambda d: "image"),
        Field("content_type", get=lambda d: d.content_type.value, writable=True,
              values=tuple(DiskContentType)),
        Field("qcow_version", get=lambda d: "qcow2_v3" if d.format is DiskFormat.COW else None),
        Field("image_id", get=lambda d: d.volume_id),
        Field("wipe_after_delete", Kind.BOOLEAN, get=lambda d: False),
        Field("propagate_errors", Kind.BOOLEAN, get=lambda d: False),
        Field("storage_domains/storage_domain", Kind.REF, get=lambda d: d.storage_domain_id,
              writable=True, ref="storagedomains"),
        Field("template", Kind.REF, get=lambda d: d.template_id, ref="templates"),
        Field("creation_time", Kind.DATE, get=lambda d: d.created or None),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/disks", Operation.LIST, tag="disk", summary="List disks")(list_disks)
    routes.add("/disks", Operation.ADD, tag="disk", summary="Add an empty disk")(add_disk)
    routes.add("/disks/<disk_id>", Operation.GET, tag="disk", summary="Get a disk")(get_disk)
    routes.add("/disks/<disk_id>", Operation.REMOVE, tag="disk",
               summary="Remove a disk")(remove_disk)


def render(disk: Disk, *, sizes: bool = False) -> dict[str, Any]:
    node = DISK.render(disk)
    if sizes:
        measured = http.engine().disks.sizes(disk)
        node["actual_size"] = str(measured.actual)
        node["total_size"] = str(measured.actual)
    return node


def list_disks() -> Response:
    engine = http.engine()
    domains = {d.id: d.name for d in engine.storage_domains.list()}

    def domain_name(disk: Disk) -> str:
        return domains.get(disk.storage_domain_id, "")

    # ovirt_disk looks disks up by name and domain: "name=x and Storage.name=y".
    return listing.list_response(DISK, engine.disks.list(actor=http.actor()), searchable={
        "name": lambda d: d.name, "alias": lambda d: d.name, "id": lambda d: d.id,
        "description": lambda d: d.description, "status": lambda d: d.status.value,
        "storage.name": domain_name, "storage": domain_name})


def get_disk(disk_id: str) -> Response:
    disk = http.engine().disks.get(disk_id, actor=http.actor())
    return listing.object_response(DISK, disk, node=render(disk, sizes=True))


def add_disk() -> Response:
    node = http.read_node(DISK.tag)
    values = DISK.read(node)
    if isinstance(node.get("id"), str):
        values["id"] = node["id"]  # clients may choose the new disk's id
    disk = http.engine().disks.create(request_from(values), actor=http.actor())
    return http.respond_object(DISK, disk, created=True)


def request_from(values: dict[str, Any]) -> DiskCreate:
    """A new empty disk from the fields of a ``<disk>`` body."""
    engine = http.engine()
    name = values.get("name") or values.get("alias")
    if not name:
        raise InvalidInput("A new disk needs a <name>.")
    if "provisioned_size" not in values:
        raise InvalidInput("A new disk needs a <provisioned_size> in bytes.")
    domain = listing.resolve(engine.storage_domains,
                             values.get("storage_domains/storage_domain"),
                             noun="storage domain", default=engine.storage_domains.default)
    return DiskCreate(name=name, provisioned_size=values["provisioned_size"],
                      storage_domain_id=domain.id,
                      format=DiskFormat(values.get("format", DiskFormat.COW.value)),
                      sparse=values.get("sparse", True),
                      description=values.get("description", ""),
                      content_type=DiskContentType(values.get("content_type",
                                                              DiskContentType.DATA.value)),
                      id=str(values.get("id", "")))


def remove_disk(disk_id: str) -> Response:
    http.engine().disks.remove(disk_id, actor=http.actor())
    return Response(status=200)
