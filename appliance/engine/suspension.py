"""Suspend to disk (oVirt's ``suspend``): the guest's RAM and device state are saved by
libvirt into a memory disk beside the VM's first disk (on the lab, the RAM storage domain)
and QEMU ends; the VM is ``saving_state``, then ``suspended``, holding no host's memory.
Starting it restores the saved state (``restoring_state``, then ``up``: the guest goes on
where it was) and the memory disk goes; stopping it discards the saved state."""

from __future__ import annotations

import time
from dataclasses import replace

from appliance.engine import chains, snapshot_memory
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.jobs import JobContext
from appliance.engine.model import Job
from appliance.engine.storage import StorageDomains
from appliance.engine.vms import Vms
from appliance.errors import InvalidState


class Suspensions:
    def __init__(self, ctx: EngineContext, vms: Vms, domains: StorageDomains) -> None:
        self.ctx = ctx
        self.vms = vms
        self.domains = domains

    @audited(AuditAction.VM_SUSPEND)
    def suspend(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        store = self.ctx.store
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_vm(actor, vm, "suspend")
            if vm.status not in (VmStatus.UP, VmStatus.PAUSED) or vm.host_id is None:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; only a VM that is up "
                                   "or paused can be suspended.")
            attachments = store.attachments.where(vm_id=vm.id)
            first = store.disks.find(attachments[0].disk_id) if attachments else None
            memory = snapshot_memory.new_memory_disk(
                self.ctx, self.domains, vm, near=first, name=f"{vm.name}_saved_state",
                description=f"The saved state of suspended VM {vm.name}")
            previous, host_id = vm.status, vm.host_id
            vm = store.vms.update(replace(vm, status=VmStatus.SAVING_STATE,
                                          saved_state_disk_id=memory.id))

        def work(_job: JobContext) -> None:
            try:
                self.ctx.hosts.agent(host_id).save_state(vm.id, chains.volume(memory))
            except Exception:
                with self.ctx.locks.hold(vm.id):
                    current = store.vms.get(vm.id)
                    store.vms.update(replace(current, status=previous, saved_state_disk_id=""))
                snapshot_memory.forget_memory_disk(self.ctx, memory)
                self.ctx.events.record(EventCode.VM_SUSPEND_FAILED, f"VM {vm.name} could not be "
                                       "suspended; it goes on running.",
                                       severity=EventSeverity.ERROR, vm_id=vm.id,
                                       user=actor.name, correlation_id=correlation_id)
                raise
            with self.ctx.locks.hold(vm.id):
                current = store.vms.get(vm.id)
                store.vms.update(replace(current, status=VmStatus.SUSPENDED, host_id=None,
                                         stop_time=time.time(), stop_reason="suspended"))
            self.ctx.events.record(EventCode.VM_SUSPENDED, f"VM {vm.name} was suspended by "
                                   f"{actor.name}: its state is saved to disk.",
                                   vm_id=vm.id, user=actor.name, correlation_id=correlation_id)

        return self.ctx.jobs.run(f"Suspending VM {vm.name}", work, owner=actor.name,
                                 correlation_id=correlation_id, vm_id=vm.id)

