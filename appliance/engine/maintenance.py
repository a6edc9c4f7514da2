"""Taking hosts and storage domains out of service and back (oVirt's deactivate/activate):
refused while running VMs depend on them."""

from __future__ import annotations

from dataclasses import replace

from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import HostStatus, StorageDomainStatus
from appliance.engine.model import Host, StorageDomain
from appliance.errors import InvalidState


class Maintenance:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def deactivate_host(self, host_id: str, *, actor: Actor) -> Host:
        require_superuser(actor, "put hosts into maintenance")
        with self.ctx.locks.hold(host_id):
            host = self.ctx.store.hosts.get(host_id)
            running = [v.name for v in self.ctx.store.vms.where(host_id=host_id)
                       if v.status.is_running]
            if running:
                raise InvalidState(f"Host '{host.name}' runs {len(running)} VM(s) "
                                   f"({', '.join(sorted(running)[:5])}); stop or migrate them "
                                   "first.")
            host = self.ctx.store.hosts.update(replace(host, status=HostStatus.MAINTENANCE))
        self.ctx.events.record("host_maintenance", f"Host {host.name} was put into maintenance "
                               f"by {actor.name}.", host_id=host.id, user=actor.name)
        return host

    def activate_host(self, host_id: str, *, actor: Actor) -> Host:
        require_superuser(actor, "activate hosts")
        with self.ctx.locks.hold(host_id):
            host = self.ctx.store.hosts.get(host_id)
            if host.id not in self.ctx.hosts.agents:
                raise InvalidState(f"Host '{host.name}' is not connected; it cannot be "
                                   "activated.")
            host = self.ctx.store.hosts.update(replace(host, status=HostStatus.UP))
        self.ctx.events.record("host_activated", f"Host {host.name} was activated by "
                               f"{actor.name}.", host_id=host.id, user=actor.name)
        return host

    def deactivate_storage_domain(self, domain_id: str, *, actor: Actor) -> StorageDomain:
        require_superuser(actor, "deactivate storage domains")
        with self.ctx.locks.hold(domain_id):
            domain = self.ctx.store.storage_domains.get(domain_id)
            users = self._running_users(domain)
            if users:
                raise InvalidState(f"Storage domain '{domain.name}' holds disks of running "
                                   f"VM(s) {', '.join(sorted(users)[:5])}; stop them first.")
            domain = self.ctx.store.storage_domains.update(
                replace(domain, status=StorageDomainStatus.MAINTENANCE))
        self.ctx.events.record("storage_domain_maintenance", f"Storage domain {domain.name} was "
                               f"deactivated by {actor.name}.", storage_domain_id=domain.id,
                               user=actor.name)
        return domain

    def activate_storage_domain(self, domain_id: str, *, actor: Actor) -> StorageDomain:
        require_superuser(actor, "activate storage domains")
        with self.ctx.locks.hold(domain_id):
            domain = self.ctx.store.storage_domains.get(domain_id)
            domain = self.ctx.store.storage_domains.update(
                replace(domain, status=StorageDomainStatus.ACTIVE))
        self.ctx.events.record("storage_domain_activated", f"Storage domain {domain.name} was "
                               f"activated by {actor.name}.", storage_domain_id=domain.id,
                               user=actor.name)
        return domain

    def _running_users(self, domain: StorageDomain) -> set[str]:
        store = self.ctx.store
        names = set()
        for disk in store.disks.where(storage_domain_id=domain.id):
            for attachment in store.attachments.where(disk_id=disk.id):
                vm = store.vms.find(attachment.vm_id)
                if vm is not None and vm.status.is_running:
                    names.add(vm.name)
        return names
