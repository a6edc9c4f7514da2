"""``/disks``: the disks of every VM and template, and free disks made through the API;
renamed and grown with ``PUT`` (never shrunk), with their sizes on the host in lists too;
``sparsify`` gives their zeroed space back."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames, terms
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import DiskContentType, DiskFormat, DiskStatus
from appliance.engine.model import Disk
from appliance.engine.storage import DiskCreate, DiskUpdate
from appliance.errors import InvalidInput, NotSupported

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
        Field("disk_profile", Kind.REF, get=lambda d: profile_id(d.storage_domain_id),
              ref="diskprofiles"),
    ),
)

# What PUT /disks/{id} changes; other fields sent must be what the disk has.
EDITABLE = frozenset({"name", "alias", "description", "provisioned_size"})

SEARCHABLE: terms.Terms = {
    **terms.basic("status", "provisioned_size", "format", "shareable"),
    "alias": lambda d: d.name,
    "storage": lambda d: terms.storage_domain_name(d.storage_domain_id),
    "storage.name": lambda d: terms.storage_domain_name(d.storage_domain_id),
    "vm_names": lambda d: terms.vm_names_of_disk(d.id),
    "disk_type": lambda d: "image",
    "content_type": lambda d: d.content_type.value,
    "tag": lambda d: terms.tag_names(d.id),
}


def install(routes: Routes) -> None:
    routes.add("/disks", Operation.LIST, tag="disk", summary="List disks")(list_disks)
    routes.add("/disks", Operation.ADD, tag="disk", summary="Add an empty disk")(add_disk)
    routes.add("/disks/<disk_id>", Operation.GET, tag="disk", summary="Get a disk")(get_disk)
    routes.add("/disks/<disk_id>", Operation.UPDATE, tag="disk",
               summary="Rename or grow a disk (live when its VM runs)")(update_disk)
    routes.add("/disks/<disk_id>", Operation.REMOVE, tag="disk",
               summary="Remove a disk")(remove_disk)
    routes.add("/disks/<disk_id>/sparsify", Operation.ACTION, tag="action",
               summary="Give back the space of the disk's zeroed blocks (its VMs are "
                       "down)")(sparsify_disk)


def profile_id(domain_id: str) -> str | None:
    engine = http.engine()
    domain = engine.storage_domains.find(domain_id)
    return engine.storage_domains.disk_profile(domain).id if domain is not None else None


def render(disk: Disk, *, sizes: bool = False, href: str | None = None) -> dict[str, Any]:
    """The disk with its sizes on the host: measured by qemu-img for one disk (``sizes``),
    from the files' allocation in lists."""
    node = DISK.render(disk, href=href)
    engine = http.engine()
    actual = engine.disks.sizes(disk).actual if sizes else engine.disks.allocated(disk)
    node["actual_size"] = str(actual)
    node["total_size"] = str(actual)
    return node


def list_disks() -> Response:
    return respond_list(http.engine().disks.list(actor=http.actor()))


def respond_list(found: list[Disk], base: str | None = None) -> Response:
    """Disks as a list, with their sizes; ``base``: the collection's href when not /disks."""
    return listing.list_response(
        DISK, found, searchable=SEARCHABLE,
        render=lambda d: render(d, href=f"{base}/{d.id}" if base else None))


def get_disk(disk_id: str) -> Response:
    disk = http.engine().disks.get(disk_id, actor=http.actor())
    return http.respond(DISK.tag, render(disk, sizes=True))


def add_disk() -> Response:
    node = http.read_node(DISK.tag)
    values = DISK.read(node)
    if isinstance(node.get("id"), str):
        values["id"] = node["id"]  # clients may choose the new disk's id
    disk = http.engine().disks.create(request_from(values), actor=http.actor())
    return http.respond_object(DISK, disk, created=True)


def sparsify_disk(disk_id: str) -> Response:
    http.read_action()
    job = http.engine().disk_sparsify.sparsify(disk_id, actor=http.actor(),
                                                correlation_id=http.correlation_id())
    return http.respond_action(job)


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


def update_disk(disk_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    node = http.read_node(DISK.tag)
    # Where a disk is stays as it is: oVirt moves disks with the move action, and ovirt_disk
    # sends <storage_domains> with an empty domain when none was named.
    values = DISK.read({k: v for k, v in node.items() if k != "storage_domains"})
    disk = engine.disks.get(disk_id, actor=actor)
    updated = engine.disks.update(disk.id, update_request(values, disk), actor=actor)
    return http.respond(DISK.tag, render(updated, sizes=True))


def update_request(values: dict[str, Any], disk: Disk) -> DiskUpdate:
    """A ``<disk>`` body as an edit: name (or alias), description, provisioned size; a
    format or allocation other than the disk's is refused (oVirt moves and converts disks
    by actions, not by PUT)."""
    current = DISK.render(disk)
    for path in sorted(set(values) - EDITABLE):
        if str(values[path]).lower() != str(current.get(path, "")).lower():
            raise NotSupported(f"Changing <{path}> of a disk is not supported; a disk can be "
                               "renamed, described and grown.")
    name = values.get("name")
    alias = values.get("alias")
    return DiskUpdate(name=name if name is not None and name != disk.name else alias,
                      description=values.get("description"),
                      provisioned_size=values.get("provisioned_size"))


def remove_disk(disk_id: str) -> Response:
    http.engine().disks.remove(disk_id, actor=http.actor())
    return Response(status=200)
