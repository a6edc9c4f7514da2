"""``/vms/{id}/detach``: the VM leaves its pool (the pool's size shrinks by one)."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.routing import Operation, Routes


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/detach", Operation.ACTION, tag="action",
               summary="Detach a VM from its pool")(detach_vm)


def detach_vm(vm_id: str) -> Response:
    http.read_action()
    http.engine().vm_pools.detach(vm_id, actor=http.actor())
    return http.respond_action()
