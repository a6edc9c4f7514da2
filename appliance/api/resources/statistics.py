"""``/vms/{id}/statistics`` and ``/hosts/{id}/statistics``: oVirt's Statistic type over the
sampler's latest values (``appliance.engine.monitoring.statistics``)."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.monitoring.statistics import (
    Statistic,
    StatisticKind,
    StatisticUnit,
    ValueType,
    host_statistics,
    vm_statistics,
)
from appliance.errors import NotFound

STATISTIC = Type(
    tag="statistic", plural="statistics", description="A measured value",
    fields=(Field("name", get=lambda s: s[0].name),
            Field("description", get=lambda s: s[0].description),
            Field("kind", get=lambda s: s[0].kind.value, values=tuple(StatisticKind)),
            Field("type", get=lambda s: s[0].type.value, values=tuple(ValueType)),
            Field("unit", get=lambda s: s[0].unit.value, values=tuple(StatisticUnit)),
            Field("values/value/datum", get=lambda s: s[0].datum),
            Field("vm", Kind.REF, get=lambda s: s[1].get("vm"), ref="vms"),
            Field("host", Kind.REF, get=lambda s: s[1].get("host"), ref="hosts")))


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/statistics", Operation.LIST, tag="statistic",
               summary="A VM's statistics: CPU, memory, disk and network use")(list_vm)
    routes.add("/vms/<vm_id>/statistics/<statistic_id>", Operation.GET, tag="statistic",
               summary="One statistic of a VM")(get_vm)
    routes.add("/hosts/<host_id>/statistics", Operation.LIST, tag="statistic",
               summary="A host's statistics: CPU, memory, KSM, network")(list_host)
    routes.add("/hosts/<host_id>/statistics/<statistic_id>", Operation.GET, tag="statistic",
               summary="One statistic of a host")(get_host)


def list_vm(vm_id: str) -> Response:
    return http.respond_list(STATISTIC, _vm_nodes(vm_id))


def get_vm(vm_id: str, statistic_id: str) -> Response:
    return http.respond(STATISTIC.tag, _one(_vm_nodes(vm_id), statistic_id))


def list_host(host_id: str) -> Response:
    return http.respond_list(STATISTIC, _host_nodes(host_id))


def get_host(host_id: str, statistic_id: str) -> Response:
    return http.respond(STATISTIC.tag, _one(_host_nodes(host_id), statistic_id))


def _vm_nodes(vm_id: str) -> list[Node]:
    engine = http.engine()
    vm = engine.vms.get(vm_id, actor=http.actor())  # someone else's VM is not found
    latest = engine.monitor.latest(vm.id) if vm.status.is_running else None
    return [_render(s, "vms", vm.id, {"vm": vm.id}) for s in vm_statistics(vm, latest)]


def _host_nodes(host_id: str) -> list[Node]:
    engine = http.engine()
    host = engine.hosts.get(host_id)
    return [_render(s, "hosts", host.id, {"host": host.id})
            for s in host_statistics(host, engine.monitor.latest(host.id))]


def _render(statistic: Statistic, collection: str, owner: str, refs: dict[str, str]) -> Node:
    node = STATISTIC.render((statistic, refs),
                            href=http.href(collection, owner, "statistics", statistic.id))
    node["id"] = statistic.id
    return node


def _one(nodes: list[Node], statistic_id: str) -> Node:
    for node in nodes:
        if node["id"] == statistic_id:
            return node
    raise NotFound(f"There is no statistic with id '{statistic_id[:60]}'.")
