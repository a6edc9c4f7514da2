"""Clusters: their scheduling policy (oVirt's names and properties) and affinity groups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from appliance.engine import bootstrap, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.event_codes import EventCode
from appliance.engine.model import AffinityGroup, Cluster
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput, NotFound


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

    @audited(AuditAction.CLUSTER_SET_AFFINITY_GROUP)
    def set_affinity_group(self, cluster_id: str, group: AffinityGroup, *,
                           actor: Actor) -> Cluster:
        """Add or replace (by name) an affinity group of the cluster's VMs."""
        require_superuser(actor, "change affinity groups")
        validation.name(group.name, noun="affinity group")
        cluster = self.ctx.store.clusters.get(cluster_id)
        for vm_id in group.vm_ids:
            if self.ctx.store.vms.get(vm_id).cluster_id != cluster.id:
                raise InvalidInput(f"VM {vm_id} is not in cluster {cluster.name}.")
        groups = tuple(g for g in cluster.affinity_groups if g.name != group.name)
        return self.ctx.store.clusters.update(replace(cluster,
                                                      affinity_groups=(*groups, group)))

    @audited(AuditAction.CLUSTER_JOIN_AFFINITY_GROUP)
    def join_affinity_group(self, vm_id: str, name: str, *, actor: Actor,
                            positive: bool = False, enforcing: bool = True) -> AffinityGroup:
        """Put a VM in its cluster's affinity group ``name``; a group of that name is made
        when there is none (``positive`` and ``enforcing`` say what kind; an existing group
        keeps its kind)."""
        require_superuser(actor, "change affinity groups")
        vm = self.ctx.store.vms.get(vm_id)
        cluster = self.ctx.store.clusters.get(vm.cluster_id)
        found = next((g for g in cluster.affinity_groups if g.name == name), None)
        if found is not None and vm.id in found.vm_ids:
            raise InvalidInput(f"VM {vm.name} is in affinity group {name} already.")
        group = replace(found, vm_ids=(*found.vm_ids, vm.id)) if found is not None else \
            AffinityGroup(name=name, vm_ids=(vm.id,), positive=positive, enforcing=enforcing)
        self.set_affinity_group(cluster.id, group, actor=actor)
        return group

    @audited(AuditAction.CLUSTER_LEAVE_AFFINITY_GROUP)
    def leave_affinity_group(self, vm_id: str, name: str, *, actor: Actor) -> AffinityGroup:
        """Take a VM out of an affinity group of its cluster (the group stays, as in oVirt)."""
        require_superuser(actor, "change affinity groups")
        vm = self.ctx.store.vms.get(vm_id)
        cluster = self.ctx.store.clusters.get(vm.cluster_id)
        found = next((g for g in cluster.affinity_groups if g.name == name), None)
        if found is None or vm.id not in found.vm_ids:
            raise NotFound(f"VM {vm.name} is in no affinity group '{name}'.")
        group = replace(found, vm_ids=tuple(v for v in found.vm_ids if v != vm.id))
        self.set_affinity_group(cluster.id, group, actor=actor)
        return group

    @audited(AuditAction.CLUSTER_REMOVE_AFFINITY_GROUP)
    def remove_affinity_group(self, cluster_id: str, name: str, *, actor: Actor) -> Cluster:
        require_superuser(actor, "change affinity groups")
        cluster = self.ctx.store.clusters.get(cluster_id)
        groups = tuple(g for g in cluster.affinity_groups if g.name != name)
        if len(groups) == len(cluster.affinity_groups):
            raise NotFound(f"Cluster {cluster.name} has no affinity group '{name}'.")
        return self.ctx.store.clusters.update(replace(cluster, affinity_groups=groups))

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
