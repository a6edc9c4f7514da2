"""``/clusters``: their scheduling policy (``PUT /clusters/{id}``); their affinity groups
are in affinitygroups.py."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.resources.datacenters import VERSION
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput

CLUSTER = Type(
    tag="cluster", plural="clusters", description="A cluster of hosts",
    links=("networks", "permissions", "affinitygroups"),
    fields=(Field("name", get=lambda c: c.name), Field("description", get=lambda c: c.description),
            Field("data_center", Kind.REF, get=lambda c: c.data_center_id, ref="datacenters"),
            Field("cpu/architecture", get=lambda c: "x86_64"),
            Field("cpu/type", get=lambda c: "x86_64"),
            Field("scheduling_policy/name", get=lambda c: c.scheduling_policy), *VERSION))

SEARCHABLE: terms.Terms = {
    **terms.basic(),
    "datacenter": lambda c: terms.data_center_name(c.data_center_id),
}


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, CLUSTER, lambda: http.engine().clusters,
                             searchable=SEARCHABLE)
    routes.add("/clusters/<cluster_id>", Operation.UPDATE, tag="cluster",
               summary="Change a cluster's scheduling policy")(update_cluster)


def update_cluster(cluster_id: str) -> Response:
    """``<cluster><scheduling_policy><name>power_saving</name></scheduling_policy>
    <custom_scheduling_policy_properties><property><name>HostsInReserve</name>
    <value>1</value></property>...`` (other cluster fields cannot be changed yet)."""
    node = http.read_node("cluster")
    for key in node:
        if key not in ("scheduling_policy", "custom_scheduling_policy_properties", "id",
                       "href", "name"):
            raise InvalidInput(f"Only the scheduling policy of a cluster can be changed, "
                               f"not <{key[:40]}>.")
    engine = http.engine()
    cluster = engine.clusters.get(cluster_id)
    policy = _policy_name(node.get("scheduling_policy"), cluster.scheduling_policy)
    properties = _properties(node.get("custom_scheduling_policy_properties"))
    updated = engine.clusters.set_scheduling_policy(cluster.id, policy, actor=http.actor(),
                                                    properties=properties)
    return http.respond_object(CLUSTER, updated)


def _policy_name(reference: Any, current: SchedulingPolicyName) -> SchedulingPolicyName:
    if not reference:
        return current
    if not isinstance(reference, dict):
        raise InvalidInput("<scheduling_policy> names a policy: <name>power_saving</name>.")
    return policies.parse_name(str(reference.get("name") or reference.get("id") or current))


def _properties(node: Any) -> dict[str, str] | None:
    if not node:
        return None
    items = node.get("property", []) if isinstance(node, dict) else []
    if isinstance(items, dict):
        items = [items]
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or "name" not in item:
            raise InvalidInput("Each <property> needs a <name> and a <value>.")
        found[str(item["name"])] = str(item.get("value", ""))
    return found
