"""Clusters: added to a data center and removed when empty, as oVirt allows; their CPU type
(oVirt's names), MAC pool, scheduling policy (oVirt's names and properties) and memory
overcommit. Their affinity groups are in affinity_groups.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import bootstrap, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import BLANK_TEMPLATE_ID, Cluster
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput, InvalidState, NameInUse

# oVirt's x86_64 CPU types (cluster levels 4.2 to 4.7): a cluster names one, its hosts must
# offer it. VirtStick keeps the name; QEMU's CPU model comes from the host.
CPU_TYPES = tuple(
    [f"Intel {n} Family" for n in ("Conroe", "Penryn")]
    + [f"{secure}Intel {n} Family" for n in (
        "Nehalem", "Westmere", "SandyBridge", "IvyBridge", "Haswell", "Broadwell",
        "Skylake Client", "Skylake Server", "Cascadelake Server", "Icelake Server")
       for secure in ("", "Secure ")]
    + [f"Intel {n} IBRS Family" for n in ("Nehalem", "Westmere", "SandyBridge", "Haswell",
                                          "Broadwell", "Skylake Client", "Skylake Server")]
    + [f"Intel {n} IBRS SSBD MDS Family" for n in ("Nehalem", "Westmere", "SandyBridge",
                                                   "IvyBridge", "Haswell", "Broadwell",
                                                   "Skylake Client", "Skylake Server")]
    + [f"AMD Opteron G{n}" for n in range(1, 6)]
    + ["AMD EPYC", "Secure AMD EPYC", "AMD EPYC IBPB SSBD"])


@dataclass(frozen=True)
class ClusterSpec:
    """A cluster to add, or the changes of ``PUT`` (None: unchanged)."""

    name: str | None = None
    data_center_id: str | None = None
    description: str | None = None
    comment: str | None = None
    cpu_type: str | None = None
    mac_pool_id: str | None = None

MIN_MEMORY_OVERCOMMIT = 100
MAX_MEMORY_OVERCOMMIT = 1000


class Clusters:
    def __init__(self, ctx: EngineContext, *, on_policy_change: Callable[[], None]) -> None:
        self.ctx = ctx
        self._on_policy_change = on_policy_change

    def list(self) -> list[Cluster]:
        return self.ctx.store.clusters.all()

    def get(self, cluster_id: str) -> Cluster:
        return self.ctx.store.clusters.get(cluster_id)

    def find(self, cluster_id: str) -> Cluster | None:
        return self.ctx.store.clusters.find(cluster_id)

    def find_by_name(self, name: str) -> Cluster | None:
        return self.ctx.store.clusters.by_name(name)

    def default(self) -> Cluster:
        """The cluster a new VM or host joins when the caller names none: the one way the
        engine, the API, the portals and the CLI (through the API root) pick it."""
        return bootstrap.default_cluster(self.ctx.store)

    @audited(AuditAction.CLUSTER_ADD)
    def add(self, spec: ClusterSpec, *, actor: Actor) -> Cluster:
        """A cluster in a data center, with the data center's management network."""
        require_superuser(actor, "add clusters")
        store = self.ctx.store
        if not spec.data_center_id:
            raise InvalidInput("Cannot add Cluster. A cluster belongs to a data center: name "
                               "one.")
        datacenter = store.datacenters.get(spec.data_center_id)
        cluster = self._checked(Cluster(
            id=new_id(), name=spec.name or "", data_center_id=datacenter.id,
            description=spec.description or "", comment=spec.comment or "",
            cpu_type=spec.cpu_type or "", mac_pool_id=spec.mac_pool_id or ""), None)
        with store.db.transaction():
            store.clusters.insert(bootstrap.with_management_network(store, cluster))
        self.ctx.events.record(EventCode.CLUSTER_ADDED, f"Cluster {cluster.name} was added to data "
                               f"center {datacenter.name} by {actor.name}.", user=actor.name)
        return store.clusters.get(cluster.id)

    @audited(AuditAction.CLUSTER_UPDATE)
    def update(self, cluster_id: str, spec: ClusterSpec, *, actor: Actor) -> Cluster:
        require_superuser(actor, "edit clusters")
        store = self.ctx.store
        with self.ctx.locks.hold(cluster_id):
            current = store.clusters.get(cluster_id)
            changed = self._checked(replace(current, **{
                k: v for k, v in vars(spec).items() if v is not None}), current)
            if changed.data_center_id != current.data_center_id:
                self._require_empty(current, "Cannot edit Cluster. Its data center changes "
                                             "only while it is empty")
                changed = bootstrap.with_management_network(store, replace(changed,
                                                                           networks=()))
            store.clusters.update(changed)
        self.ctx.events.record(EventCode.CLUSTER_UPDATED, f"Cluster {changed.name} was updated by "
                               f"{actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.CLUSTER_REMOVE)
    def remove(self, cluster_id: str, *, actor: Actor) -> None:
        """Refused while hosts, VMs or templates are in it, as oVirt refuses."""
        require_superuser(actor, "remove clusters")
        with self.ctx.locks.hold(cluster_id):
            cluster = self.ctx.store.clusters.get(cluster_id)
            self._require_empty(cluster, "Cannot remove Cluster")
            self.ctx.store.clusters.delete(cluster.id)
        self.ctx.events.record(EventCode.CLUSTER_REMOVED, f"Cluster {cluster.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    def _checked(self, cluster: Cluster, current: Cluster | None) -> Cluster:
        store = self.ctx.store
        if current is None or cluster.name != current.name:
            validation.name(cluster.name, noun="cluster")
            other = store.clusters.by_name(cluster.name)
            if other is not None and other.id != cluster.id:
                raise NameInUse(f"Cannot {'edit' if current else 'add'} Cluster. The name "
                                f"'{cluster.name}' is already used by another cluster.")
        if cluster.cpu_type and cluster.cpu_type not in CPU_TYPES:
            raise InvalidInput(f"Cannot {'edit' if current else 'add'} Cluster. The CPU type "
                               f"'{cluster.cpu_type[:60]}' is not one oVirt knows; for "
                               "example 'Intel Nehalem Family' or 'AMD EPYC'.")
        store.datacenters.get(cluster.data_center_id)
        if cluster.mac_pool_id:
            store.mac_pools.get(cluster.mac_pool_id)
        return cluster

    def _require_empty(self, cluster: Cluster, refusal: str) -> None:
        store = self.ctx.store
        for noun, names in (
                ("hosts", [h.name for h in store.hosts.where(cluster_id=cluster.id)]),
                ("VMs", [v.name for v in store.vms.where(cluster_id=cluster.id)]),
                ("templates", [t.name for t in store.templates.where(cluster_id=cluster.id)
                               if t.id != BLANK_TEMPLATE_ID])):
            if names:
                raise InvalidState(f"{refusal}: cluster {cluster.name} still has {noun}: "
                                   f"{', '.join(sorted(names)[:10])}.")

    @audited(AuditAction.CLUSTER_SET_SCHEDULING_POLICY)
    def set_scheduling_policy(self, cluster_id: str, policy: SchedulingPolicyName, *,
                              actor: Actor, properties: dict[str, str] | None = None) -> Cluster:
        """Choose the cluster's policy; ``properties`` override oVirt's defaults."""
        require_superuser(actor, "change scheduling policies")
        properties = properties or {}
        policies.check_properties(policy, properties)
        cluster = self.ctx.store.clusters.get(cluster_id)
        cluster = self.ctx.store.clusters.update(replace(
            cluster, scheduling_policy=policy,
            scheduling_properties=tuple(sorted(properties.items()))))
        shown = ", ".join(f"{k}={v}" for k, v in sorted(properties.items()))
        self.ctx.events.record(EventCode.CLUSTER_SCHEDULING_POLICY, f"Cluster {cluster.name} now "
                               f"schedules by {policy.value}{f' ({shown})' if shown else ''}; "
                               f"set by {actor.name}.", user=actor.name)
        self._on_policy_change()
        return cluster

    @audited(AuditAction.CLUSTER_SET_MEMORY_OVERCOMMIT)
    def set_memory_overcommit(self, cluster_id: str, percent: int, *, actor: Actor) -> Cluster:
        """oVirt's memory optimization: VMs of the cluster may be promised ``percent`` % of a
        host's memory (100 none, 150 server load, 200 desktop load)."""
        require_superuser(actor, "change memory overcommit")
        if not MIN_MEMORY_OVERCOMMIT <= percent <= MAX_MEMORY_OVERCOMMIT:
            raise InvalidInput(f"A memory overcommit of {percent}% is not allowed; use "
                               f"{MIN_MEMORY_OVERCOMMIT} (none) to {MAX_MEMORY_OVERCOMMIT} "
                               "percent, e.g. 150 for server load or 200 for desktop load.")
        cluster = self.ctx.store.clusters.get(cluster_id)
        cluster = self.ctx.store.clusters.update(replace(cluster,
                                                         memory_overcommit_percent=percent))
        self.ctx.events.record(EventCode.CLUSTER_MEMORY_OVERCOMMIT, f"Cluster {cluster.name} now "
                               f"schedules up to {percent}% of its hosts' memory; set by "
                               f"{actor.name}.", user=actor.name)
        return cluster
