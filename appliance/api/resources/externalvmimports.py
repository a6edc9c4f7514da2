"""``/externalvmimports``: a VM (or template) imported from a file on the host: an OVA, a
VMware ``.vmx`` or a Xen configuration."""

from __future__ import annotations

from pathlib import Path

from flask import Response

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, ref
from appliance.engine.imports.pipeline import Imported, ImportTarget
from appliance.errors import InvalidInput

# Elements of oVirt's external_vm_import that VirtStick takes and needs not: its imported
# disks are always thin qcow2 on the host that runs the import.
_IMPORT_ACCEPTED = frozenset(("sparse", "host", "username", "password", "drivers_iso",
                              "cpu_profile", "quota", "comment", "description"))

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
    routes.add("/externalvmimports", Operation.ADD, tag="external_vm_import",
               summary="Import a VM from an OVA, a .vmx or a Xen config")(import_external)


def import_external() -> Response:
    engine = http.engine()
    values = http.read(EXTERNAL_VM_IMPORT)
    url = str(values.get("url", ""))
    cluster = listing.resolve(engine.clusters, values.get("cluster"), noun="cluster",
                              default=engine.clusters.default)
    domain = listing.resolve(engine.storage_domains, values.get("storage_domain"),
                             noun="storage domain", default=engine.storage_domains.default)
    target = ImportTarget(cluster_id=cluster.id, storage_domain_id=domain.id,
                          name=str(values.get("name", "")))
    path = local_path(url)
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


def local_path(url: str) -> Path:
    """The host path an import URL names (``ova:///path``, ``file:///path`` or a path)."""
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            url = url[len(scheme):]
            break
    path = Path(url)
    if not url or not path.is_absolute():
        raise InvalidInput(f"'{url[:200]}' is not an absolute path (or ova:///path) on the host.")
    return path
