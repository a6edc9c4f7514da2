"""oVirt's quotas: limits of a data center's memory and vCPUs (per cluster or for all) and
of its storage (per domain or for all), followed as the data center's quota mode says:
``disabled`` not at all, ``audit`` with a warning event when a limit would be passed,
``enabled`` by refusing (QuotaExceeded) what would pass a limit beyond its hard grace.

oVirt assigns each VM and disk a quota; VirtStick has no such assignment, so everything in
the data center counts against each of its quotas (one quota, as labs have, is exactly
oVirt's). The per-user limits of ``[quotas]`` in the configuration (quotas.py) are another
bound and apply whatever the mode.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, QuotaMode
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import (
    DataCenter,
    GiB,
    Quota,
    QuotaClusterLimit,
    QuotaStorageLimit,
)
from appliance.errors import InvalidInput, NameInUse, NotFound, QuotaExceeded

PERCENT = range(0, 101)
UNLIMITED = -1


@dataclass(frozen=True)
class QuotaSpec:
    """A quota to add, or the changes of ``PUT`` (None: unchanged)."""

    name: str | None = None
    description: str | None = None
    cluster_hard_limit_pct: int | None = None
    cluster_soft_limit_pct: int | None = None
    storage_hard_limit_pct: int | None = None
    storage_soft_limit_pct: int | None = None


@dataclass(frozen=True)
class ClusterUsage:
    memory_gib: float
    vcpus: int


class DataCenterQuotas:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self, datacenter_id: str) -> builtins.list[Quota]:
        self.ctx.store.datacenters.get(datacenter_id)
        return self.ctx.store.quotas.where(data_center_id=datacenter_id)

    def get(self, datacenter_id: str, quota_id: str) -> Quota:
        quota = self.ctx.store.quotas.find(quota_id)
        if quota is None or quota.data_center_id != datacenter_id:
            raise NotFound(f"Data center {datacenter_id} has no quota with id '{quota_id}'.")
        return quota

    @audited(AuditAction.QUOTA_ADD)
    def add(self, datacenter_id: str, spec: QuotaSpec, *, actor: Actor) -> Quota:
        require_superuser(actor, "add quotas")
        datacenter = self.ctx.store.datacenters.get(datacenter_id)
        quota = _checked(_edited(Quota(id=new_id(), name=spec.name or "",
                                       data_center_id=datacenter.id), spec))
        with self.ctx.store.db.transaction():
            self._require_free_name(quota)
            self.ctx.store.quotas.insert(quota)
        self.ctx.events.record(EventCode.QUOTA_ADDED, f"Quota {quota.name} was added to data "
                               f"center {datacenter.name} by {actor.name}.", user=actor.name)
        return quota

    @audited(AuditAction.QUOTA_UPDATE)
    def update(self, datacenter_id: str, quota_id: str, spec: QuotaSpec, *,
               actor: Actor) -> Quota:
        require_superuser(actor, "edit quotas")
        with self.ctx.locks.hold(quota_id):
            quota = _checked(_edited(self.get(datacenter_id, quota_id), spec))
            self._require_free_name(quota)
            self.ctx.store.quotas.update(quota)
        self.ctx.events.record(EventCode.QUOTA_UPDATED, f"Quota {quota.name} was updated by "
                               f"{actor.name}.", user=actor.name)
        return quota

    @audited(AuditAction.QUOTA_REMOVE)
    def remove(self, datacenter_id: str, quota_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove quotas")
        quota = self.get(datacenter_id, quota_id)
        self.ctx.store.quotas.delete(quota.id)
        self.ctx.events.record(EventCode.QUOTA_REMOVED, f"Quota {quota.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    # Limits: one per cluster (or storage domain), named by its id as oVirt names them

    @audited(AuditAction.QUOTA_SET_CLUSTER_LIMIT)
    def set_cluster_limit(self, datacenter_id: str, quota_id: str, limit: QuotaClusterLimit,
                          *, actor: Actor) -> Quota:
        require_superuser(actor, "change quota limits")
        with self.ctx.locks.hold(quota_id):
            quota = self.get(datacenter_id, quota_id)
            if limit.cluster_id:
                cluster = self.ctx.store.clusters.get(limit.cluster_id)
                if cluster.data_center_id != datacenter_id:
                    raise InvalidInput(f"Cluster {cluster.name} is not in the quota's data "
                                       "center.")
            _check_limit(limit.memory_gib, "memory limit")
            _check_limit(limit.vcpus, "vCPU limit")
            kept = tuple(c for c in quota.cluster_limits if c.cluster_id != limit.cluster_id)
            return self.ctx.store.quotas.update(replace(quota,
                                                        cluster_limits=(*kept, limit)))

    @audited(AuditAction.QUOTA_SET_STORAGE_LIMIT)
    def set_storage_limit(self, datacenter_id: str, quota_id: str, limit: QuotaStorageLimit,
                          *, actor: Actor) -> Quota:
        require_superuser(actor, "change quota limits")
        with self.ctx.locks.hold(quota_id):
            quota = self.get(datacenter_id, quota_id)
            if limit.storage_domain_id:
                domain = self.ctx.store.storage_domains.get(limit.storage_domain_id)
                if domain.data_center_id != datacenter_id:
                    raise InvalidInput(f"Storage domain {domain.name} is not attached to the "
                                       "quota's data center.")
            _check_limit(limit.limit_gib, "storage limit")
            kept = tuple(s for s in quota.storage_limits
                         if s.storage_domain_id != limit.storage_domain_id)
            return self.ctx.store.quotas.update(replace(quota,
                                                        storage_limits=(*kept, limit)))

    @audited(AuditAction.QUOTA_REMOVE_LIMIT)
    def remove_limit(self, datacenter_id: str, quota_id: str, limit_id: str, *,
                     actor: Actor) -> Quota:
        """A cluster or storage limit, by the id oVirt gives it (its object's, or the
        quota's for the one over everything)."""
        require_superuser(actor, "change quota limits")
        with self.ctx.locks.hold(quota_id):
            quota = self.get(datacenter_id, quota_id)
            target = "" if limit_id == quota.id else limit_id
            clusters = tuple(c for c in quota.cluster_limits if c.cluster_id != target)
            storage = tuple(s for s in quota.storage_limits if s.storage_domain_id != target)
            if (clusters, storage) == (quota.cluster_limits, quota.storage_limits):
                raise NotFound(f"Quota {quota.name} has no limit with id '{limit_id}'.")
            return self.ctx.store.quotas.update(replace(
                quota, cluster_limits=clusters, storage_limits=storage))

    # What is used

    def cluster_usage(self, datacenter_id: str, cluster_id: str) -> ClusterUsage:
        """Memory and vCPUs of the VMs in ``cluster_id`` ("": the whole data center)."""
        store = self.ctx.store
        clusters = ({cluster_id} if cluster_id else
                    {c.id for c in store.clusters.where(data_center_id=datacenter_id)})
        vms = [v for v in store.vms.all() if v.cluster_id in clusters]
        return ClusterUsage(memory_gib=sum(v.memory for v in vms) / GiB,
                            vcpus=sum(v.vcpus for v in vms))

    def storage_usage_gib(self, datacenter_id: str, domain_id: str) -> float:
        store = self.ctx.store
        domains = ({domain_id} if domain_id else
                   {d.id for d in store.storage_domains.where(data_center_id=datacenter_id)})
        return sum(d.provisioned_size for d in store.disks.all()
                   if d.storage_domain_id in domains) / GiB

    # Followed where VMs and disks are made

    def require(self, *, cluster_id: str = "", domain_id: str = "", memory: int = 0,
                vcpus: int = 0, storage: int = 0) -> None:
        """Refuses (enforced mode) or reports (audit) what would pass a quota's hard limit."""
        store = self.ctx.store
        if cluster_id:
            datacenter = store.datacenters.get(store.clusters.get(cluster_id).data_center_id)
        elif domain_id and (dc_id := store.storage_domains.get(domain_id).data_center_id):
            datacenter = store.datacenters.get(dc_id)
        else:
            return
        if datacenter.quota_mode is QuotaMode.DISABLED:
            return
        for quota in store.quotas.where(data_center_id=datacenter.id):
            for problem in self._passed(quota, cluster_id, domain_id, memory, vcpus, storage):
                self._over(datacenter, quota, problem)

    def _passed(self, quota: Quota, cluster_id: str, domain_id: str, memory: int,
                vcpus: int, storage: int) -> builtins.list[str]:
        problems = []
        grace = 1 + quota.cluster_hard_limit_pct / 100
        for limit in quota.cluster_limits:
            if cluster_id and limit.cluster_id in ("", cluster_id):
                used = self.cluster_usage(quota.data_center_id, limit.cluster_id)
                if limit.memory_gib >= 0 and memory and (
                        used.memory_gib + memory / GiB > limit.memory_gib * grace):
                    problems.append(f"memory: {used.memory_gib + memory / GiB:.1f} GiB of "
                                    f"{limit.memory_gib:g} GiB")
                if limit.vcpus >= 0 and vcpus and used.vcpus + vcpus > limit.vcpus * grace:
                    problems.append(f"vCPUs: {used.vcpus + vcpus} of {limit.vcpus}")
        storage_grace = 1 + quota.storage_hard_limit_pct / 100
        for stored in quota.storage_limits:
            if domain_id and storage and stored.limit_gib >= 0 and stored.storage_domain_id in (
                    "", domain_id):
                used_gib = self.storage_usage_gib(quota.data_center_id,
                                                  stored.storage_domain_id)
                if used_gib + storage / GiB > stored.limit_gib * storage_grace:
                    problems.append(f"storage: {used_gib + storage / GiB:.1f} GiB of "
                                    f"{stored.limit_gib} GiB")
        return problems

    def _over(self, datacenter: DataCenter, quota: Quota, problem: str) -> None:
        text = (f"Quota {quota.name} of data center {datacenter.name} would be exceeded "
                f"({problem}, with a grace of its hard limit percentage)")
        if datacenter.quota_mode is QuotaMode.ENABLED:
            raise QuotaExceeded(f"{text}; raise the limit or free resources first.")
        code = (EventCode.QUOTA_STORAGE_EXCEEDED if problem.startswith("storage")
                else EventCode.QUOTA_CLUSTER_EXCEEDED)
        self.ctx.events.record(code, f"{text}; allowed, as the data center's quota mode is "
                               "audit.", severity=EventSeverity.WARNING)

    def _require_free_name(self, quota: Quota) -> None:
        for other in self.ctx.store.quotas.where(data_center_id=quota.data_center_id):
            if other.name == quota.name and other.id != quota.id:
                raise NameInUse(f"Cannot add Quota. The name '{quota.name}' is already used "
                                "in this data center.")


def _edited(quota: Quota, spec: QuotaSpec) -> Quota:
    return replace(quota, **{k: v for k, v in vars(spec).items() if v is not None})


def _checked(quota: Quota) -> Quota:
    validation.name(quota.name, noun="quota")
    for name, value in (("cluster_hard_limit_pct", quota.cluster_hard_limit_pct),
                        ("cluster_soft_limit_pct", quota.cluster_soft_limit_pct),
                        ("storage_hard_limit_pct", quota.storage_hard_limit_pct),
                        ("storage_soft_limit_pct", quota.storage_soft_limit_pct)):
        if value not in PERCENT:
            raise InvalidInput(f"The quota's {name} must be between 0 and 100, not {value}.")
    return quota


def _check_limit(value: float, what: str) -> None:
    if value < 0 and value != UNLIMITED:
        raise InvalidInput(f"The {what} must be -1 (unlimited) or more, not {value:g}.")


def require(ctx: EngineContext, *, cluster_id: str = "", domain_id: str = "", memory: int = 0,
            vcpus: int = 0, storage: int = 0) -> None:
    """``DataCenterQuotas.require`` for the services that make VMs and disks."""
    DataCenterQuotas(ctx).require(cluster_id=cluster_id, domain_id=domain_id, memory=memory,
                                  vcpus=vcpus, storage=storage)
