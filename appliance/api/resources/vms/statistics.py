"""``/vms/{id}/statistics``: a VM's CPU, memory, disk and network use."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.representation import Node
from appliance.api.resources.statistics import STATISTIC, one, render
from appliance.api.routing import Operation, Routes
from appliance.engine.monitoring.statistics import vm_statistics


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/statistics", Operation.LIST, tag="statistic",
               summary="A VM's statistics: CPU, memory, disk and network use")(list_vm)
    routes.add("/vms/<vm_id>/statistics/<statistic_id>", Operation.GET, tag="statistic",
               summary="One statistic of a VM")(get_vm)


def list_vm(vm_id: str) -> Response:
    return http.respond_list(STATISTIC, _nodes(vm_id))


def get_vm(vm_id: str, statistic_id: str) -> Response:
    return http.respond(STATISTIC.tag, one(_nodes(vm_id), statistic_id))


def _nodes(vm_id: str) -> list[Node]:
    engine = http.engine()
    vm = engine.vms.get(vm_id, actor=http.actor())  # someone else's VM is not found
    latest = engine.monitor.latest(vm.id) if vm.status.is_running else None
    return [render(s, "vms", vm.id, {"vm": vm.id}) for s in vm_statistics(vm, latest)]
