"""``/storagedomains/{id}/isoimages``: the ISO library, for small images (a cloud-init seed,
a driver disk) by an upload simpler than oVirt's image transfer::

    POST /ovirt-engine/api/storagedomains/{sd}/isoimages?name=x.iso&sha256=<hex>
    Content-Type: application/octet-stream     (the image; Content-Length given)

The service holds such a body whole before the view runs, so it takes 16 MiB at most
(``body_limits.ISO_SHORTCUT_LIMIT``); larger images go through an image transfer into a
disk of content type iso, as oVirt's clients upload them.

answers 201 with the ISO's ``<disk>`` (``content_type`` iso); put it in a VM's CD-ROM with
``PUT /vms/{id}/cdroms/00000000-0000-0000-0000-000000000000`` and ``<cdrom><file id="..."/>``.
"""

from __future__ import annotations

from flask import Response, request

from appliance.api import http
from appliance.api.resources import disks
from appliance.api.routing import Operation, Routes


def install(routes: Routes) -> None:
    routes.add("/storagedomains/<domain_id>/isoimages", Operation.ADD, tag="disk",
               summary="Upload an ISO image (octet-stream body)")(upload_iso)


def upload_iso(domain_id: str) -> Response:
    name = request.args.get("name", "")
    sha256 = request.args.get("sha256", "")
    disk = http.engine().isos.upload(request.stream, name=name, storage_domain_id=domain_id,
                                     actor=http.actor(), size=request.content_length,
                                     sha256=sha256)
    return http.respond_object(disks.DISK, disk, created=True, href=http.href("disks", disk.id))
