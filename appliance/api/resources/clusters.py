"""``/clusters``: added to a data center, changed (names, CPU type, MAC pool, scheduling
policy, memory overcommit) and removed when empty, as oVirt allows; the clusters of a data
center. A cluster's networks: networks.py; its affinity groups: affinitygroups.py."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.representation import Node
from appliance.api.resources.datacenters import VERSION
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.clusters import ClusterSpec
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.model import DEFAULT_MAC_POOL_ID, Cluster
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput, NotFound


def _policy_ref(cluster: Cluster) -> Node:
    return {"href": http.href("schedulingpolicies", cluster.scheduling_policy),
            "id": cluster.scheduling_policy, "name": cluster.scheduling_policy}


def _fixed(path: str, kind: Kind, value: object) -> Field:
    return Field(path, kind, get=lambda c: value)


_B, _S = Kind.BOOLEAN, Kind.STRING
# What every VirtStick cluster is, as oVirt's fields name it (ovirt_cluster's update check
# reads them all): KSM on, fencing on without its gluster and storage exceptions, VMs
# migrated on a host's failure, libvirt's default migration settings.
_FIXED = (
    _fixed("switch_type", _S, "legacy"), _fixed("firewall_type", _S, "firewalld"),
    _fixed("ballooning_enabled", _B, False), _fixed("virt_service", _B, True),
    _fixed("gluster_service", _B, False), _fixed("threads_as_cores", _B, False),
    _fixed("ha_reservation", _B, False), _fixed("trusted_service", _B, False),
    _fixed("maintenance_reason_required", _B, False), _fixed("optional_reason", _B, False),
    _fixed("ksm/enabled", _B, True), _fixed("ksm/merge_across_nodes", _B, True),
    _fixed("fencing_policy/enabled", _B, True),
    _fixed("fencing_policy/skip_if_gluster_bricks_up", _B, False),
    _fixed("fencing_policy/skip_if_gluster_quorum_not_met", _B, False),
    _fixed("fencing_policy/skip_if_sd_active/enabled", _B, False),
    _fixed("fencing_policy/skip_if_connectivity_broken/enabled", _B, False),
    _fixed("fencing_policy/skip_if_connectivity_broken/threshold", Kind.INTEGER, 50),
    _fixed("error_handling/on_error", _S, "migrate"),
    _fixed("migration/auto_converge", _S, "inherit"),
    _fixed("migration/compressed", _S, "inherit"),
    _fixed("migration/encrypted", _S, "inherit"),
    _fixed("migration/bandwidth/assignment_method", _S, "auto"),
    Field("required_rng_sources", Kind.STRINGS, get=lambda c: ["urandom"],
          item="required_rng_source"),
)

CLUSTER = Type(
    tag="cluster", plural="clusters", description="A cluster of hosts",
    links=("networks", "affinitygroups", "permissions"),
    # what oVirt's clients send that VirtStick has no choice about (one architecture, one
    # version, memory and migration policies of its own)
    accepted=frozenset({"version", "memory_policy", "migration", "ballooning_enabled",
                        "threads_as_cores", "virt_service", "gluster_service",
                        "error_handling", "fencing_policy", "ksm", "switch_type",
                        "firewall_type", "management_network", "rng_sources",
                        "required_rng_sources", "trusted_service", "ha_reservation",
                        "optional_reason", "maintenance_reason_required", "bios_type",
                        "fips_mode", "serial_number", "display", "supported_versions"}),
    fields=(Field("name", get=lambda c: c.name, writable=True),
            Field("description", get=lambda c: c.description, writable=True),
            Field("comment", get=lambda c: c.comment, writable=True),
            Field("data_center", Kind.REF, get=lambda c: c.data_center_id, ref="datacenters",
                  writable=True),
            Field("cpu/architecture", get=lambda c: "x86_64", writable=True,
                  values=("x86_64", "undefined")),
            Field("cpu/type", get=lambda c: c.cpu_type or None, writable=True),
            Field("mac_pool", Kind.REF, get=lambda c: c.mac_pool_id or DEFAULT_MAC_POOL_ID,
                  ref="macpools", writable=True),
            Field("scheduling_policy", Kind.REF, get=_policy_ref),
            Field("memory_policy/over_commit/percent", Kind.INTEGER,
                  get=lambda c: c.memory_overcommit_percent),
            *VERSION, *_FIXED))

SEARCHABLE: terms.Terms = {
    **terms.basic(),
    "datacenter": lambda c: terms.data_center_name(c.data_center_id),
}


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, CLUSTER, lambda: http.engine().clusters,
                             searchable=SEARCHABLE)
    routes.add("/clusters", Operation.ADD, tag="cluster",
               summary="Add a cluster to a data center")(add_cluster)
    routes.add("/clusters/<cluster_id>", Operation.UPDATE, tag="cluster",
               summary="Change a cluster's names, CPU type, MAC pool or scheduling "
                       "policy")(update_cluster)
    routes.add("/clusters/<cluster_id>", Operation.REMOVE, tag="cluster",
               summary="Remove a cluster without hosts, VMs or templates")(remove_cluster)
    routes.add("/datacenters/<dc_id>/clusters", Operation.LIST, tag="cluster",
               summary="The clusters of a data center")(list_datacenter_clusters)
    routes.add("/datacenters/<dc_id>/clusters/<cluster_id>", Operation.GET, tag="cluster",
               summary="A cluster of a data center")(get_datacenter_cluster)


def add_cluster() -> Response:
    node = http.read_node("cluster")
    spec = _spec(node)
    if not spec.name:
        raise InvalidInput("A new cluster needs a <name>.")
    if not spec.data_center_id:
        raise InvalidInput("A new cluster needs a <data_center> (by id or name).")
    engine, actor = http.engine(), http.actor()
    made = engine.clusters.add(spec, actor=actor)
    if node.get("scheduling_policy") or node.get("custom_scheduling_policy_properties"):
        made = _set_policy(made.id, node)
    made = _set_overcommit(made, node)
    return http.respond_object(CLUSTER, made, created=True)


def update_cluster(cluster_id: str) -> Response:
    """The cluster's fields, its policy (``<scheduling_policy><name>power_saving</name>
    </scheduling_policy><custom_scheduling_policy_properties><property><name>HostsInReserve
    </name><value>1</value></property>...``) and memory overcommit
    (``<memory_policy><over_commit><percent>150``)."""
    node = http.read_node("cluster")
    engine = http.engine()
    cluster = engine.clusters.get(cluster_id)
    spec = _spec(node)
    if spec != ClusterSpec():
        cluster = engine.clusters.update(cluster.id, spec, actor=http.actor())
    if node.get("scheduling_policy") or node.get("custom_scheduling_policy_properties"):
        cluster = _set_policy(cluster.id, node)
    cluster = _set_overcommit(cluster, node)
    return http.respond_object(CLUSTER, cluster)


def _set_overcommit(cluster: Cluster, node: Node) -> Cluster:
    """oVirt's memory optimization, when the request names a percentage (clients send
    ``<memory_policy>`` with other fields VirtStick has no choice about)."""
    policy = node.get("memory_policy")
    over_commit = policy.get("over_commit") if isinstance(policy, dict) else None
    if not isinstance(over_commit, dict) or over_commit.get("percent") in (None, ""):
        return cluster
    percent = str(over_commit["percent"]).strip()
    if not percent.isdigit():
        raise InvalidInput("<memory_policy><over_commit><percent> is a whole number such as "
                           "100, 150 or 200.")
    if int(percent) == cluster.memory_overcommit_percent:
        return cluster
    return http.engine().clusters.set_memory_overcommit(cluster.id, int(percent),
                                                        actor=http.actor())


def remove_cluster(cluster_id: str) -> Response:
    http.engine().clusters.remove(cluster_id, actor=http.actor())
    return Response(status=200)


def list_datacenter_clusters(dc_id: str) -> Response:
    return listing.list_response(CLUSTER, http.engine().datacenters.list_clusters(dc_id))


def get_datacenter_cluster(dc_id: str, cluster_id: str) -> Response:
    for cluster in http.engine().datacenters.list_clusters(dc_id):
        if cluster.id == cluster_id:
            return http.respond_object(CLUSTER, cluster)
    raise NotFound(f"Data center {dc_id[:60]} has no cluster with id '{cluster_id[:60]}'.")


def _spec(node: Node) -> ClusterSpec:
    values = CLUSTER.read({k: v for k, v in node.items()
                           if k not in ("scheduling_policy",
                                        "custom_scheduling_policy_properties")})
    engine = http.engine()
    datacenter, pool = values.get("data_center"), values.get("mac_pool")
    return ClusterSpec(
        name=values.get("name"), description=values.get("description"),
        comment=values.get("comment"), cpu_type=values.get("cpu/type"),
        data_center_id=listing.resolve(engine.datacenters, datacenter,
                                       noun="data center").id if datacenter else None,
        mac_pool_id=listing.resolve(engine.mac_pools, pool, noun="MAC pool").id
        if pool else None)


def _set_policy(cluster_id: str, node: Node) -> Cluster:
    engine = http.engine()
    cluster = engine.clusters.get(cluster_id)
    policy = _policy_name(node.get("scheduling_policy"), cluster.scheduling_policy)
    properties = _properties(node.get("custom_scheduling_policy_properties"))
    return engine.clusters.set_scheduling_policy(cluster.id, policy, actor=http.actor(),
                                                 properties=properties)


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
