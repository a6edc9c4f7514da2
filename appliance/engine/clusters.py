"""Clusters: their scheduling policy (oVirt's names and properties). Their affinity groups
are in affinity_groups.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from appliance.engine import bootstrap
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Cluster
from appliance.engine.scheduling import policies


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
