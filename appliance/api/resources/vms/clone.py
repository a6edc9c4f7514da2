"""``/vms/{id}/clone``: a new VM with copies of a down VM's disks, made by a job."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http
from appliance.api.resources.vms.lifecycle import VM
from appliance.api.routing import Operation, Routes
from appliance.errors import InvalidInput


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/clone", Operation.ACTION, tag="action",
               summary="Clone a VM (down): copies of its disks")(clone_vm)


def clone_vm(vm_id: str) -> Response:
    node = http.read_action()
    target: Any = node.get("vm")
    if not isinstance(target, dict) or not target.get("name"):
        raise InvalidInput("clone needs the new VM's name: <vm><name>...</name></vm>.")
    clone, job = http.engine().vm_clones.clone(vm_id, name=str(target["name"]),
                                               actor=http.actor(),
                                               correlation_id=http.correlation_id())
    return http.respond_action(job, vm=VM.render(clone))
