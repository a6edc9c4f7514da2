"""Taking storage domains out of service and back (oVirt's deactivate/activate): refused
while running VMs depend on them. Hosts have theirs in ``host_maintenance``."""

from __future__ import annotations

from dataclasses import replace

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import StorageDomainStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.model import StorageDomain
from appliance.errors import InvalidState


class Maintenance:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    @audited(AuditAction.MAINTENANCE_DEACTIVATE_STORAGE_DOMAIN)
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
        self.ctx.events.record(
            EventCode.STORAGE_DOMAIN_MAINTENANCE, f"Storage domain {domain.name} was "
            f"deactivated by {actor.name}.", storage_domain_id=domain.id,
            user=actor.name)
        return domain

    @audited(AuditAction.MAINTENANCE_ACTIVATE_STORAGE_DOMAIN)
    def activate_storage_domain(self, domain_id: str, *, actor: Actor) -> StorageDomain:
        require_superuser(actor, "activate storage domains")
        with self.ctx.locks.hold(domain_id):
            domain = self.ctx.store.storage_domains.get(domain_id)
            domain = self.ctx.store.storage_domains.update(
                replace(domain, status=StorageDomainStatus.ACTIVE))
        self.ctx.events.record(
            EventCode.STORAGE_DOMAIN_ACTIVATED, f"Storage domain {domain.name} was "
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
