"""Many hosts in the API: add and remove hosts (lab hosts with ``<type>lab</type>``), fence
them (start, stop, restart, status), migrate VMs and cancel migrations, the clusters'
scheduling policy (``PUT /clusters/{id}`` and ``/schedulingpolicies``), affinity groups and
one-time join tokens."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.resources.infra import CLUSTER, HOST
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.model import AffinityGroup
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput


@cache
def host_add_type() -> Type:
    """What POST /hosts reads. Made by a function, not held by the module, so that the
    OpenAPI document describes hosts by infra.HOST (it collects the Types modules hold)."""
    return Type(
        tag="host", plural="hosts", description="A host to add",
        accepted=frozenset({"root_password", "ssh", "port", "comment", "spm"}),
        fields=(Field("name", get=lambda h: h.name, writable=True),
                Field("address", get=lambda h: h.address, writable=True),
                Field("description", get=lambda h: h.description, writable=True),
                Field("type", get=lambda h: h.kind.value, writable=True,
                      values=("rhel", "ovirt_node", "lab")),
                Field("cluster", Kind.REF, get=lambda h: h.cluster_id, ref="clusters",
                      writable=True),
                Field("memory", Kind.INTEGER, get=lambda h: h.memory, writable=True),
                Field("libvirt_uri", get=lambda h: h.libvirt_uri, writable=True),
                Field("power_management/type", writable=True),
                Field("power_management/address", writable=True),
                Field("power_management/username", writable=True)))


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



JOIN_TOKEN = Type(
    tag="join_token", plural="jointokens",
    description="A one-time token for a host on another machine to join",
    fields=(Field("token", get=lambda t: t),
            Field("join_path", get=lambda t: "/ovirt-engine/services/host-join")))


AFFINITY_GROUP = Type(
    tag="affinity_group", plural="affinitygroups",
    description="VMs that must (positive) or must not share a host",
    fields=(Field("name", get=lambda g: g.name),
            Field("positive", Kind.BOOLEAN, get=lambda g: g.positive),
            Field("enforcing", Kind.BOOLEAN, get=lambda g: g.enforcing)))


def install(routes: Routes) -> None:
    base = "/clusters/<cluster_id>/affinitygroups"
    routes.add(base, Operation.LIST, tag="affinity_group",
               summary="List a cluster's affinity groups")(list_affinity_groups)
    routes.add(base, Operation.ADD, tag="affinity_group",
               summary="Add (or replace) an affinity group")(add_affinity_group)
    routes.add(f"{base}/<name>", Operation.REMOVE, tag="affinity_group",
               summary="Remove an affinity group")(remove_affinity_group)
    routes.add("/jointokens", Operation.ADD, tag="join_token",
               summary="Make a one-time token for a host to join")(add_join_token)
    routes.add("/hosts", Operation.ADD, tag="host",
               summary="Add a host (by address, or a lab host on this machine)")(add_host)
    routes.add("/hosts/<host_id>", Operation.REMOVE, tag="host",
               summary="Remove a host in maintenance")(remove_host)
    routes.add("/hosts/<host_id>/fence", Operation.ACTION, tag="action",
               summary="Power management: start, stop, restart or status")(fence_host)
    routes.add("/vms/<vm_id>/migrate", Operation.ACTION, tag="action",
               summary="Live-migrate a VM to another host")(migrate_vm)
    routes.add("/vms/<vm_id>/cancelmigration", Operation.ACTION, tag="action",
               summary="Cancel a VM's migration")(cancel_migration)
    routes.add("/clusters/<cluster_id>", Operation.UPDATE, tag="cluster",
               summary="Change a cluster's scheduling policy")(update_cluster)
    routes.add("/schedulingpolicies", Operation.LIST, tag="scheduling_policy",
               summary="List scheduling policies")(list_policies)
    routes.add("/schedulingpolicies/<policy>", Operation.GET, tag="scheduling_policy",
               summary="Get a scheduling policy")(get_policy)


def add_host() -> Response:
    engine = http.engine()
    values = http.read(host_add_type())
    name = values.get("name")
    if not name:
        raise InvalidInput("A new host needs a <name>.")
    actor = http.actor()
    if values.get("type") == "lab":
        memory = values.get("memory")
        host = engine.hosts.start_lab_host(name, actor=actor, memory=memory or None)
    else:
        address = values.get("address")
        if not address:
            raise InvalidInput("A new host needs an <address> (or <type>lab</type>).")
        uri = values.get("libvirt_uri") or f"qemu+tls://{address}/system"
        host = engine.hosts.add(name, uri=uri, address=address, actor=actor,
                                power_management=_power_management(values))
    return http.respond_object(HOST, host, created=True)


def add_join_token() -> Response:
    token = http.engine().joining.create_token(actor=http.actor())
    return http.respond(JOIN_TOKEN.tag, JOIN_TOKEN.render(token), status=201)


def remove_host(host_id: str) -> Response:
    http.engine().hosts.remove(host_id, actor=http.actor())
    return Response(status=200)


def fence_host(host_id: str) -> Response:
    node = http.read_action()
    engine, actor = http.engine(), http.actor()
    kind = str(node.get("fence_type", "")).lower()
    if kind == "start":
        engine.hosts.power_on(host_id, actor=actor)
    elif kind == "stop":
        engine.ha.fence(host_id, actor=actor)
    elif kind == "restart":
        engine.ha.fence(host_id, actor=actor)
        engine.hosts.power_on(host_id, actor=actor)
    elif kind == "status":
        host = engine.hosts.get(host_id)
        state = "on" if engine.hosts.powered_on(host) else "off"
        return http.respond_action(power_management={"status": state})
    else:
        raise InvalidInput("<fence_type> must be start, stop, restart or status.")
    return http.respond_action()


def migrate_vm(vm_id: str) -> Response:
    node = http.read_action()
    engine = http.engine()
    target = node.get("host")
    host_id = None
    if isinstance(target, dict) and target:
        host_id = listing.resolve(engine.store.hosts, target, noun="host").id
    job = engine.migrations.migrate(vm_id, actor=http.actor(), host_id=host_id,
                                    correlation_id=http.correlation_id())
    return http.respond_action(job)


def cancel_migration(vm_id: str) -> Response:
    http.read_action()
    http.engine().migrations.cancel(vm_id, actor=http.actor())
    return http.respond_action()


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
    vm_ids = tuple(listing.resolve(engine.store.vms, ref, noun="VM").id
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


def _power_management(values: dict[str, Any]) -> str:
    kind = values.get("power_management/type")
    if not kind:
        return ""
    if kind in ("ipmilan", "ipmi"):
        address = values.get("power_management/address") or ""
        user = values.get("power_management/username") or "admin"
        return f"ipmi:{address}:{user}"
    if kind == "wol":
        return f"wol:{values.get('power_management/address') or ''}"
    raise InvalidInput(f"Power management type '{kind}' is not supported; use ipmilan or wol.")
