"""``/schedulingpolicies``: how a cluster places and balances VMs (oVirt's policy names,
with their properties' defaults)."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.scheduling import policies

_DESCRIPTIONS = {
    SchedulingPolicyName.NONE: "No load balancing: VMs start where most memory is free",
    SchedulingPolicyName.EVENLY_DISTRIBUTED: "Spread CPU and memory load over the hosts",
    SchedulingPolicyName.VM_EVENLY_DISTRIBUTED: "Spread the number of VMs over the hosts",
    SchedulingPolicyName.POWER_SAVING: "Consolidate VMs and switch empty hosts off",
}

SCHEDULING_POLICY = Type(
    tag="scheduling_policy", plural="schedulingpolicies",
    description="A cluster scheduling policy",
    fields=(Field("name", get=lambda p: p.value),
            Field("description", get=lambda p: _DESCRIPTIONS[p]),
            Field("default_policy", Kind.BOOLEAN,
                  get=lambda p: p is SchedulingPolicyName.NONE)))


def install(routes: Routes) -> None:
    routes.add("/schedulingpolicies", Operation.LIST, tag="scheduling_policy",
               summary="List scheduling policies")(list_policies)
    routes.add("/schedulingpolicies/<policy>", Operation.GET, tag="scheduling_policy",
               summary="Get a scheduling policy")(get_policy)


def list_policies() -> Response:
    nodes = [_render_policy(p) for p in SchedulingPolicyName]
    return http.respond_list(SCHEDULING_POLICY, nodes)


def get_policy(policy: str) -> Response:
    return http.respond(SCHEDULING_POLICY.tag, _render_policy(policies.parse_name(policy)))


def _render_policy(name: SchedulingPolicyName) -> Node:
    node = SCHEDULING_POLICY.render(name, href=http.href("schedulingpolicies", name.value))
    node["id"] = name.value
    node["properties"] = {"property": [{"name": k, "value": str(v)}
                                       for k, v in policies.DEFAULTS[name].items()]}
    return node
