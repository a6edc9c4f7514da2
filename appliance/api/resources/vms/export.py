"""``/vms/{id}/export``: a VM that is down, written as an OVA into a directory on the host
(templates export the same way, in templates.py)."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.routing import Operation, Routes
from appliance.errors import InvalidInput


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/export", Operation.ACTION, tag="action",
               summary="Export a VM (down) to an OVA on the host")(export_vm)


def export_vm(vm_id: str) -> Response:
    directory, filename = read_export_target()
    http.engine().vms.get(vm_id, actor=http.actor())
    job = http.engine().ova_exporter.export_vm(vm_id, directory=directory, filename=filename,
                                               actor=http.actor(),
                                               correlation_id=http.correlation_id())
    return http.respond_action(job)


def read_export_target() -> tuple[str, str]:
    """The export action's ``<directory>`` (on the host) and optional ``<filename>``."""
    node = http.read_action()
    directory = str(node.get("directory", "") or "")
    if not directory:
        raise InvalidInput("export needs <directory> (on the host) and may name <filename>.")
    return directory, str(node.get("filename", "") or "")
