"""Data centers and the storage domains attached to them (VirtStick has one, Default, with
its RAM domain; oVirt's API reaches domains through it too)."""

from __future__ import annotations

import builtins

from appliance.engine.context import EngineContext
from appliance.engine.model import DataCenter, StorageDomain
from appliance.errors import NotFound


class DataCenters:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[DataCenter]:
        return self.ctx.store.datacenters.all()

    def get(self, datacenter_id: str) -> DataCenter:
        return self.ctx.store.datacenters.get(datacenter_id)

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
