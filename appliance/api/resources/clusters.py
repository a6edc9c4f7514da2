"""``/clusters``: their scheduling policy (``PUT /clusters/{id}``) and affinity groups
(VMs that must or must not share a host)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.resources.datacenters import VERSION
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.model import AffinityGroup
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput

CLUSTER = Type(
    tag="cluster", plural="clusters", description="A cluster of hosts",
    links=("networks", "permissions"),
    fields=(Field("name", get=lambda c: c.name), Field("description", get=lambda c: c.description),
            Field("data_center", Kind.REF, get=lambda c: c.data_center_id, ref="datacenters"),
            Field("cpu/architecture", get=lambda c: "x86_64"),
            Field("cpu/type", get=lambda c: "x86_64"),
            Field("scheduling_policy/name", get=lambda c: c.scheduling_policy), *VERSION))

AFFINITY_GROUP = Type(
    tag="affinity_group", plural="affinitygroups",
    description="VMs that must (positive) or must not share a host",
    fields=(Field("name", get=lambda g: g.name),
            Field("positive", Kind.BOOLEAN, get=lambda g: g.positive),
            Field("enforcing", Kind.BOOLEAN, get=lambda g: g.enforcing)))


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, CLUSTER, lambda: http.engine().clusters)
    routes.add("/clusters/<cluster_id>", Operation.UPDATE, tag="cluster",
               summary="Change a cluster's scheduling policy")(update_cluster)
    base = "/clusters/<cluster_id>/affinitygroups"
    routes.add(base, Operation.LIST, tag="affinity_group",
               summary="List a cluster's affinity groups")(list_affinity_groups)
    routes.add(base, Operation.ADD, tag="affinity_group",
               summary="Add (or replace) an affinity group")(add_affinity_group)
    routes.add(f"{base}/<name>", Operation.REMOVE, tag="affinity_group",
               summary="Remove an affinity group")(remove_affinity_group)


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


def list_affinity_groups(cluster_id: str) -> Response:
    cluster = http.engine().clusters.get(cluster_id)
    return http.respond_list(AFFINITY_GROUP,
                             [_render_group(cluster_id, g) for g in cluster.affinity_groups])


def add_affinity_group(cluster_id: str) -> Response:
    node = http.read_node("affinity_group")
    engine = http.engine()
    name = str(node.get("name") or "")
    vms = listing.VisibleVms()
    vm_ids = tuple(listing.resolve(vms, ref, noun="VM").id
                   for ref in _items(node.get("vms"), "vm"))
    group = AffinityGroup(name=name, vm_ids=vm_ids,
                          positive=_flag(node.get("positive"), False),
                          enforcing=_flag(node.get("enforcing"), True))
    engine.clusters.set_affinity_group(cluster_id, group, actor=http.actor())
    return http.respond(AFFINITY_GROUP.tag, _render_group(cluster_id, group), status=201)


def remove_affinity_group(cluster_id: str, name: str) -> Response:
    http.engine().clusters.remove_affinity_group(cluster_id, name, actor=http.actor())
    return Response(status=200)


def _render_group(cluster_id: str, group: AffinityGroup) -> Node:
    node = AFFINITY_GROUP.render(group, href=http.href("clusters", cluster_id,
                                                       "affinitygroups", group.name))
    node["id"] = group.name
    node["vms"] = {"vm": [{"id": vm_id, "href": http.href("vms", vm_id)}
                          for vm_id in group.vm_ids]}
    return node


def _items(node: Any, tag: str) -> list[dict[str, str]]:
    if not node:
        return []
    items = node.get(tag, []) if isinstance(node, dict) else node
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(f"<{tag}s> lists <{tag}> elements with an id or a name.")
    return items


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise InvalidInput(f"'{str(value)[:20]}' is not true or false.")


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
