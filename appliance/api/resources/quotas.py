"""``/datacenters/{id}/quotas``: oVirt's quotas of a data center, their storage limits
(``quotastoragelimits``, one per storage domain, named by its id) and cluster limits
(``quotaclusterlimits``, memory and vCPUs, named by the cluster's id); the data center's
``quota_mode`` says whether they are enforced."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.datacenter_quotas import QuotaSpec
from appliance.engine.model import Quota, QuotaClusterLimit, QuotaStorageLimit
from appliance.errors import InvalidInput, NotFound

QUOTA = Type(
    tag="quota", plural="quotas", description="A quota of a data center",
    links=("quotastoragelimits", "quotaclusterlimits", "permissions"),
    accepted=frozenset({"data_center", "cluster_hard_limit_pct"}),
    fields=(Field("name", get=lambda q: q.name, writable=True),
            Field("description", get=lambda q: q.description, writable=True),
            Field("data_center", Kind.REF, get=lambda q: q.data_center_id, ref="datacenters"),
            Field("cluster_hard_limit_pct", Kind.INTEGER,
                  get=lambda q: q.cluster_hard_limit_pct, writable=True),
            Field("cluster_soft_limit_pct", Kind.INTEGER,
                  get=lambda q: q.cluster_soft_limit_pct, writable=True),
            Field("storage_hard_limit_pct", Kind.INTEGER,
                  get=lambda q: q.storage_hard_limit_pct, writable=True),
            Field("storage_soft_limit_pct", Kind.INTEGER,
                  get=lambda q: q.storage_soft_limit_pct, writable=True)))

STORAGE_LIMIT = Type(
    tag="quota_storage_limit", plural="quotastoragelimits",
    description="A quota's limit of a storage domain (or of all: the quota's own id)",
    accepted=frozenset({"quota", "usage", "comment"}),
    fields=(Field("name", writable=True), Field("description", writable=True),
            Field("limit", Kind.INTEGER, get=lambda s: s["limit"].limit_gib, writable=True),
            Field("usage", get=lambda s: f"{s['usage']:g}"),
            Field("storage_domain", Kind.REF, ref="storagedomains", writable=True,
                  get=lambda s: s["limit"].storage_domain_id or None)))

CLUSTER_LIMIT = Type(
    tag="quota_cluster_limit", plural="quotaclusterlimits",
    description="A quota's memory (GiB) and vCPU limit of a cluster (or of all)",
    accepted=frozenset({"quota", "memory_usage", "vcpu_usage", "comment"}),
    fields=(Field("name", writable=True), Field("description", writable=True),
            Field("memory_limit", get=lambda c: f"{c['limit'].memory_gib:g}", writable=True),
            Field("memory_usage", get=lambda c: f"{c['usage'].memory_gib:g}"),
            Field("vcpu_limit", Kind.INTEGER, get=lambda c: c["limit"].vcpus, writable=True),
            Field("vcpu_usage", Kind.INTEGER, get=lambda c: c["usage"].vcpus),
            Field("cluster", Kind.REF, ref="clusters", writable=True,
                  get=lambda c: c["limit"].cluster_id or None)))

BASE = "/datacenters/<dc_id>/quotas"


def install(routes: Routes) -> None:
    routes.add(BASE, Operation.LIST, tag="quota",
               summary="The quotas of a data center")(list_quotas)
    routes.add(BASE, Operation.ADD, tag="quota", summary="Add a quota")(add_quota)
    routes.add(f"{BASE}/<quota_id>", Operation.GET, tag="quota",
               summary="A quota")(get_quota)
    routes.add(f"{BASE}/<quota_id>", Operation.UPDATE, tag="quota",
               summary="Change a quota")(update_quota)
    routes.add(f"{BASE}/<quota_id>", Operation.REMOVE, tag="quota",
               summary="Remove a quota")(remove_quota)
    for type_, lister, adder, getter in (
            (STORAGE_LIMIT, list_storage_limits, add_storage_limit, get_storage_limit),
            (CLUSTER_LIMIT, list_cluster_limits, add_cluster_limit, get_cluster_limit)):
        rule = f"{BASE}/<quota_id>/{type_.plural}"
        noun = type_.description.split(" (")[0].lower()
        routes.add(rule, Operation.LIST, tag=type_.tag, summary=f"List {noun}s")(lister)
        routes.add(rule, Operation.ADD, tag=type_.tag, summary=f"Set {noun}")(adder)
        routes.add(f"{rule}/<limit_id>", Operation.GET, tag=type_.tag,
                   summary=f"Get {noun}")(getter)
        routes.add(f"{rule}/<limit_id>", Operation.REMOVE, tag=type_.tag,
                   summary=f"Remove {noun}")(remove_limit)


def _render(quota: Quota) -> Node:
    return QUOTA.render(quota, href=http.href("datacenters", quota.data_center_id, "quotas",
                                              quota.id))


def _spec() -> QuotaSpec:
    values = http.read(QUOTA)
    return QuotaSpec(name=values.get("name"), description=values.get("description"),
                     cluster_hard_limit_pct=values.get("cluster_hard_limit_pct"),
                     cluster_soft_limit_pct=values.get("cluster_soft_limit_pct"),
                     storage_hard_limit_pct=values.get("storage_hard_limit_pct"),
                     storage_soft_limit_pct=values.get("storage_soft_limit_pct"))


def list_quotas(dc_id: str) -> Response:
    return listing.list_response(QUOTA, http.engine().quotas.list(dc_id), render=_render)


def get_quota(dc_id: str, quota_id: str) -> Response:
    return http.respond(QUOTA.tag, _render(http.engine().quotas.get(dc_id, quota_id)))


def add_quota(dc_id: str) -> Response:
    spec = _spec()
    if not spec.name:
        raise InvalidInput("A new quota needs a <name>.")
    node = _render(http.engine().quotas.add(dc_id, spec, actor=http.actor()))
    return http.respond(QUOTA.tag, node, status=201, location=str(node["href"]))


def update_quota(dc_id: str, quota_id: str) -> Response:
    return http.respond(QUOTA.tag, _render(http.engine().quotas.update(
        dc_id, quota_id, _spec(), actor=http.actor())))


def remove_quota(dc_id: str, quota_id: str) -> Response:
    http.engine().quotas.remove(dc_id, quota_id, actor=http.actor())
    return Response(status=200)


# Limits

def _storage_nodes(quota: Quota) -> list[Node]:
    quotas = http.engine().quotas
    nodes = []
    for limit in quota.storage_limits:
        limit_id = limit.storage_domain_id or quota.id
        node = STORAGE_LIMIT.render(
            {"limit": limit, "usage": quotas.storage_usage_gib(quota.data_center_id,
                                                               limit.storage_domain_id)},
            href=http.href("datacenters", quota.data_center_id, "quotas", quota.id,
                           STORAGE_LIMIT.plural, limit_id))
        node["id"] = limit_id
        node["quota"] = {"href": _render(quota)["href"], "id": quota.id}
        nodes.append(node)
    return nodes


def _cluster_nodes(quota: Quota) -> list[Node]:
    quotas = http.engine().quotas
    nodes = []
    for limit in quota.cluster_limits:
        limit_id = limit.cluster_id or quota.id
        node = CLUSTER_LIMIT.render(
            {"limit": limit, "usage": quotas.cluster_usage(quota.data_center_id,
                                                           limit.cluster_id)},
            href=http.href("datacenters", quota.data_center_id, "quotas", quota.id,
                           CLUSTER_LIMIT.plural, limit_id))
        node["id"] = limit_id
        node["quota"] = {"href": _render(quota)["href"], "id": quota.id}
        nodes.append(node)
    return nodes


def _one(nodes: list[Node], limit_id: str) -> Node:
    for node in nodes:
        if node["id"] == limit_id:
            return node
    raise NotFound(f"The quota has no limit with id '{limit_id[:60]}'.")


def list_storage_limits(dc_id: str, quota_id: str) -> Response:
    return http.respond_list(STORAGE_LIMIT,
                             _storage_nodes(http.engine().quotas.get(dc_id, quota_id)))


def get_storage_limit(dc_id: str, quota_id: str, limit_id: str) -> Response:
    nodes = _storage_nodes(http.engine().quotas.get(dc_id, quota_id))
    return http.respond(STORAGE_LIMIT.tag, _one(nodes, limit_id))


def add_storage_limit(dc_id: str, quota_id: str) -> Response:
    values = http.read(STORAGE_LIMIT)
    engine = http.engine()
    domain = values.get("storage_domain")
    domain_id = listing.resolve(engine.storage_domains, domain,
                                noun="storage domain").id if domain else ""
    limit = QuotaStorageLimit(storage_domain_id=domain_id,
                              limit_gib=values.get("limit", -1))
    quota = engine.quotas.set_storage_limit(dc_id, quota_id, limit, actor=http.actor())
    node = _one(_storage_nodes(quota), domain_id or quota.id)
    return http.respond(STORAGE_LIMIT.tag, node, status=201, location=str(node["href"]))


def list_cluster_limits(dc_id: str, quota_id: str) -> Response:
    return http.respond_list(CLUSTER_LIMIT,
                             _cluster_nodes(http.engine().quotas.get(dc_id, quota_id)))


def get_cluster_limit(dc_id: str, quota_id: str, limit_id: str) -> Response:
    nodes = _cluster_nodes(http.engine().quotas.get(dc_id, quota_id))
    return http.respond(CLUSTER_LIMIT.tag, _one(nodes, limit_id))


def add_cluster_limit(dc_id: str, quota_id: str) -> Response:
    values = http.read(CLUSTER_LIMIT)
    engine = http.engine()
    cluster = values.get("cluster")
    cluster_id = listing.resolve(engine.clusters, cluster, noun="cluster").id if cluster else ""
    memory = values.get("memory_limit", "-1")
    try:
        memory_gib = float(memory)
    except ValueError:
        raise InvalidInput(f"<memory_limit> is GiB as a number, not '{memory[:20]}'.") from None
    limit = QuotaClusterLimit(cluster_id=cluster_id, memory_gib=memory_gib,
                              vcpus=values.get("vcpu_limit", -1))
    quota = engine.quotas.set_cluster_limit(dc_id, quota_id, limit, actor=http.actor())
    node = _one(_cluster_nodes(quota), cluster_id or quota.id)
    return http.respond(CLUSTER_LIMIT.tag, node, status=201, location=str(node["href"]))


def remove_limit(dc_id: str, quota_id: str, limit_id: str) -> Response:
    http.engine().quotas.remove_limit(dc_id, quota_id, limit_id, actor=http.actor())
    return Response(status=200)
