"""Data centers, the clusters and networks in each, and the storage domains attached to them.

A fresh appliance has one, Default, with the RAM domain. More can be added as oVirt allows: a
new data center has no storage (it is uninitialized until a domain is attached) and gets its
own ovirtmgmt network; one with clusters or storage domains is not removed, as oVirt refuses.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace

from appliance.engine import bootstrap, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import QuotaMode
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Cluster, DataCenter, StorageDomain
from appliance.errors import InvalidState, NameInUse, NotFound


@dataclass(frozen=True)
class DataCenterSpec:
    """A data center to add, or the changes of ``PUT`` (None: unchanged)."""

    name: str | None = None
    description: str | None = None
    comment: str | None = None
    local: bool | None = None
    quota_mode: QuotaMode | None = None


class DataCenters:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[DataCenter]:
        return self.ctx.store.datacenters.all()

    def get(self, datacenter_id: str) -> DataCenter:
        return self.ctx.store.datacenters.get(datacenter_id)

    def find(self, datacenter_id: str) -> DataCenter | None:
        return self.ctx.store.datacenters.find(datacenter_id)

    def find_by_name(self, name: str) -> DataCenter | None:
        return self.ctx.store.datacenters.by_name(name)

    def list_clusters(self, datacenter_id: str) -> builtins.list[Cluster]:
        datacenter = self.get(datacenter_id)
        return self.ctx.store.clusters.where(data_center_id=datacenter.id)

    @audited(AuditAction.DATACENTER_ADD)
    def add(self, spec: DataCenterSpec, *, actor: Actor) -> DataCenter:
        require_superuser(actor, "add data centers")
        name = validation.name(spec.name or "", noun="data center")
        store = self.ctx.store
        datacenter = DataCenter(id=new_id(), name=name, description=spec.description or "",
                                comment=spec.comment or "", local=bool(spec.local),
                                quota_mode=spec.quota_mode or QuotaMode.DISABLED)
        with store.db.transaction():
            self._require_free_name(datacenter)
            store.datacenters.insert(datacenter)
            bootstrap.management_network(store, datacenter.id)
        self.ctx.events.record(EventCode.DATACENTER_ADDED, f"Data center {name} was added by "
                               f"{actor.name}.", user=actor.name)
        return datacenter

    @audited(AuditAction.DATACENTER_UPDATE)
    def update(self, datacenter_id: str, spec: DataCenterSpec, *,
               actor: Actor) -> DataCenter:
        require_superuser(actor, "edit data centers")
        with self.ctx.locks.hold(datacenter_id):
            current = self.get(datacenter_id)
            changed = replace(current, **{k: v for k, v in vars(spec).items()
                                          if v is not None})
            if changed.name != current.name:
                validation.name(changed.name, noun="data center")
                self._require_free_name(changed)
            if changed.local != current.local and self.list_clusters(current.id):
                raise InvalidState(f"Cannot edit Data Center. Data center {current.name} has "
                                   "clusters: its storage type (local or shared) stays.")
            self.ctx.store.datacenters.update(changed)
        self.ctx.events.record(EventCode.DATACENTER_UPDATED, f"Data center {changed.name} was "
                               f"updated by {actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.DATACENTER_REMOVE)
    def remove(self, datacenter_id: str, *, actor: Actor) -> None:
        """Refused while it has clusters or storage domains, as oVirt refuses; its networks
        and quotas go with it."""
        require_superuser(actor, "remove data centers")
        store = self.ctx.store
        with self.ctx.locks.hold(datacenter_id):
            datacenter = self.get(datacenter_id)
            clusters = [c.name for c in self.list_clusters(datacenter.id)]
            if clusters:
                raise InvalidState(f"Cannot remove Data Center. Data center {datacenter.name} "
                                   f"still has clusters: {', '.join(clusters)}; remove them "
                                   "or move them first.")
            domains = [d.name for d in self.list_storage_domains(datacenter.id)]
            if domains:
                raise InvalidState(f"Cannot remove Data Center. Storage domains are attached "
                                   f"to data center {datacenter.name}: {', '.join(domains)}.")
            with store.db.transaction():
                for network in store.networks.where(data_center_id=datacenter.id):
                    for profile in store.vnic_profiles.where(network_id=network.id):
                        store.vnic_profiles.delete(profile.id)
                    store.networks.delete(network.id)
                for quota in store.quotas.where(data_center_id=datacenter.id):
                    store.quotas.delete(quota.id)
                store.datacenters.delete(datacenter.id)
        self.ctx.events.record(EventCode.DATACENTER_REMOVED, f"Data center {datacenter.name} was "
                               f"removed by {actor.name}.", user=actor.name)

    def _require_free_name(self, datacenter: DataCenter) -> None:
        other = self.ctx.store.datacenters.by_name(datacenter.name)
        if other is not None and other.id != datacenter.id:
            raise NameInUse(f"Cannot add Data Center. The name '{datacenter.name}' is already "
                            "used by another data center.")

    # Storage

    def list_storage_domains(self, datacenter_id: str) -> builtins.list[StorageDomain]:
        datacenter = self.get(datacenter_id)
        return self.ctx.store.storage_domains.where(data_center_id=datacenter.id)

    def get_storage_domain(self, datacenter_id: str, domain_id: str) -> StorageDomain:
        """A storage domain as attached to this data center; not found when it is not."""
        datacenter = self.get(datacenter_id)
        domain = self.ctx.store.storage_domains.get(domain_id)
        if domain.data_center_id != datacenter.id:
            raise NotFound(f"Storage domain '{domain.name}' is not attached to data center "
                           f"'{datacenter.name}'.")
        return domain
