"""Image management in the API: OVA ``export`` of VMs and templates, the VM ``clone`` action,
imports (``/externalvmimports``: OVAs, VMware ``.vmx``, Xen configurations), the ISO
library (a simple documented upload) and the VM's CD-ROM.

ISO upload, simpler than oVirt's image transfer::

    POST /ovirt-engine/api/storagedomains/{sd}/isoimages?name=x.iso&sha256=<hex>
    Content-Type: application/octet-stream     (the image, streamed; Content-Length given)

answers 201 with the ISO's ``<disk>`` (``content_type`` iso); put it in a VM's CD-ROM with
``PUT /vms/{id}/cdroms/00000000-0000-0000-0000-000000000000`` and ``<cdrom><file id="..."/>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, request

from appliance.api import http, listing
from appliance.api.resources import disks, vms
from appliance.api.resources.vm_devices import CDROM, CDROM_ID
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, ref
from appliance.engine.ova.importer import Imported, ImportTarget
from appliance.errors import InvalidInput, NotFound

# Elements of oVirt's external_vm_import that VirtStick takes and needs not: its imported
# disks are always thin qcow2 on the host that runs the import.
_IMPORT_ACCEPTED = frozenset(("sparse", "host", "username", "password", "drivers_iso",
                              "cpu_profile", "quota", "comment", "description", "id", "href"))

EXTERNAL_VM_IMPORT = Type(
    tag="external_vm_import", plural="externalvmimports", accepted=_IMPORT_ACCEPTED,
    description="Import a VM from an OVA, a VMware .vmx or a Xen configuration on the host",
    fields=(
        Field("name", writable=True, get=lambda i: i["name"]),
        Field("provider", writable=True, get=lambda i: i["provider"]),
        Field("url", writable=True, get=lambda i: i["url"]),
        Field("cluster", Kind.REF, writable=True, get=lambda i: i["cluster"], ref="clusters"),
        Field("storage_domain", Kind.REF, writable=True, get=lambda i: i["storage_domain"],
              ref="storagedomains"),
        Field("vm", Kind.REF, get=lambda i: i["vm"], ref="vms"),
    ),
)
_SCHEMES = ("ova://", "vmx://", "xen://", "file://")


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/export", Operation.ACTION, tag="action",
               summary="Export a VM (down) to an OVA on the host")(export_vm)
    routes.add("/templates/<template_id>/export", Operation.ACTION, tag="action",
               summary="Export a template to an OVA on the host")(export_template)
    routes.add("/vms/<vm_id>/clone", Operation.ACTION, tag="action",
               summary="Clone a VM (down): copies of its disks")(clone_vm)
    routes.add("/externalvmimports", Operation.ADD, tag="external_vm_import",
               summary="Import a VM from an OVA, a .vmx or a Xen config")(import_external)
    routes.add("/storagedomains/<domain_id>/isoimages", Operation.ADD, tag="disk",
               summary="Upload an ISO image (octet-stream body)")(upload_iso)
    routes.add("/vms/<vm_id>/cdroms/<cdrom_id>", Operation.UPDATE, tag="cdrom",
               summary="Insert or eject the CD-ROM's ISO image")(update_cdrom)


def export_vm(vm_id: str) -> Response:
    directory, filename = _export_target()
    http.engine().vms.get(vm_id, actor=http.actor())
    job = http.engine().ova_exporter.export_vm(vm_id, directory=directory, filename=filename,
                                               actor=http.actor(),
                                               correlation_id=http.correlation_id())
    return http.respond_action(job)


def export_template(template_id: str) -> Response:
    directory, filename = _export_target()
    job = http.engine().ova_exporter.export_template(
        template_id, directory=directory, filename=filename, actor=http.actor(),
        correlation_id=http.correlation_id())
    return http.respond_action(job)


def clone_vm(vm_id: str) -> Response:
    node = http.read_action()
    target: Any = node.get("vm")
    if not isinstance(target, dict) or not target.get("name"):
        raise InvalidInput("clone needs the new VM's name: <vm><name>...</name></vm>.")
    clone, job = http.engine().vm_clones.clone(vm_id, name=str(target["name"]),
                                               actor=http.actor(),
                                               correlation_id=http.correlation_id())
    return http.respond_action(job, vm=vms.VM.render(clone))


def import_external() -> Response:
    engine = http.engine()
    store = engine.store
    values = http.read(EXTERNAL_VM_IMPORT)
    url = str(values.get("url", ""))
    cluster = listing.resolve(store.clusters, values.get("cluster"), noun="cluster",
                              default=lambda: store.clusters.get_by_name("Default"))
    domain = listing.resolve(store.storage_domains, values.get("storage_domain"),
                             noun="storage domain",
                             default=lambda: store.storage_domains.all()[0])
    target = ImportTarget(cluster_id=cluster.id, storage_domain_id=domain.id,
                          name=str(values.get("name", "")))
    path = _local_path(url)
    provider = str(values.get("provider", "")).lower()
    actor = http.actor()
    imported: Imported
    if url.startswith("ova://") or path.suffix.lower() == ".ova":
        imported = engine.importer.import_ova(path, target, actor=actor)
    elif provider == "vmware" or path.suffix.lower() == ".vmx":
        imported = engine.v2v.import_vmx(path, target, actor=actor)
    elif provider == "xen":
        imported = engine.v2v.import_xen(path, target, actor=actor)
    else:
        raise InvalidInput("Say what to import: provider vmware (a .vmx), xen (an xl "
                           "configuration) or an ova:// URL.")
    node = EXTERNAL_VM_IMPORT.render({"name": target.name, "provider": provider, "url": url,
                                      "cluster": cluster.id, "storage_domain": domain.id,
                                      "vm": imported.id if imported.kind == "vm" else None})
    if imported.kind == "template":
        node["template"] = ref("templates", imported.id)
    node["job"] = ref("jobs", imported.job.id)
    node["unmapped"] = {"item": list(imported.unmapped)}
    return http.respond(EXTERNAL_VM_IMPORT.tag, node, status=201)


def upload_iso(domain_id: str) -> Response:
    name = request.args.get("name", "")
    sha256 = request.args.get("sha256", "")
    disk = http.engine().isos.upload(request.stream, name=name, storage_domain_id=domain_id,
                                     actor=http.actor(), size=request.content_length,
                                     sha256=sha256)
    return http.respond_object(disks.DISK, disk, created=True, href=http.href("disks", disk.id))


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


def _export_target() -> tuple[str, str]:
    node = http.read_action()
    directory = str(node.get("directory", "") or "")
    if not directory:
        raise InvalidInput("export needs <directory> (on the host) and may name <filename>.")
    return directory, str(node.get("filename", "") or "")


def local_ova_path(url: str) -> Path:
    """The host path an import URL names (``ova:///path``, ``file:///path`` or a path)."""
    return _local_path(url)


def _local_path(url: str) -> Path:
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            url = url[len(scheme):]
            break
    path = Path(url)
    if not url or not path.is_absolute():
        raise InvalidInput(f"'{url[:200]}' is not an absolute path (or ova:///path) on the host.")
    return path


__all__ = ["install"]
