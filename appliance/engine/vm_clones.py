"""Clone a VM (oVirt's ``clone`` action): a new VM with the same settings, new MACs and
independent copies of its disks (each chain collapsed), made by a job while both are
IMAGE_LOCKED. If the copy fails the new VM is removed and the source unlocked."""

from __future__ import annotations

import time
from dataclasses import replace

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id, new_mac
from appliance.engine.jobs import JobContext
from appliance.engine.model import Job, Vm
from appliance.errors import InvalidState, NameInUse


class VmClones:
    def __init__(self, ctx: EngineContext, copies: DiskCopies) -> None:
        self.ctx = ctx
        self.copies = copies

    @audited(AuditAction.VM_CLONE_CLONE)
    def clone(self, vm_id: str, *, name: str, actor: Actor,
              correlation_id: str = "") -> tuple[Vm, Job]:
        store = self.ctx.store
        validation.name(name, noun="VM")
        with self.ctx.locks.hold(vm_id):
            source = store.vms.get(vm_id)
            require_vm(actor, source, "clone")
            if source.status is not VmStatus.DOWN:
                raise InvalidState(f"VM '{source.name}' is {source.status.value}; it must be "
                                   "down to be cloned.")
            clone = replace(source, id=new_id(), name=name, status=VmStatus.IMAGE_LOCKED,
                            host_id=None, created=time.time(), start_time=0.0, stop_time=0.0,
                            stop_reason="", cdrom_file_id=source.cdrom_file_id,
                            owner_id=None if actor.superuser else actor.user_id)
            with store.db.transaction():
                if store.vms.by_name(name) is not None:
                    raise NameInUse(f"The name '{name}' is already used by another VM.")
                store.vms.insert(clone)
                for nic in store.nics.where(vm_id=source.id):
                    store.nics.insert(replace(nic, id=new_id(), vm_id=clone.id, mac=new_mac()))
                store.vms.update(replace(source, status=VmStatus.IMAGE_LOCKED))
        attachments = store.attachments.where(vm_id=source.id)

        def work(job: JobContext) -> None:
            for index, attachment in enumerate(attachments):
                disk = store.disks.get(attachment.disk_id)

                def progress(percent: int, index: int = index) -> None:
                    job.progress((index * 100 + percent) // max(1, len(attachments)))

                copy = self.copies.copy(disk, name=f"{name}_{disk.name}"[:100],
                                        progress=progress)
                store.attachments.insert(replace(attachment, id=copy.id, vm_id=clone.id,
                                                 disk_id=copy.id))
            self._set_down(clone.id)
            self._set_down(source.id)
            self.ctx.events.record(EventCode.VM_CLONED, f"VM {source.name} was cloned to {name} by "
                                   f"{actor.name}.", vm_id=clone.id, user=actor.name,
                                   correlation_id=correlation_id)

        def undo() -> None:
            for attachment in store.attachments.where(vm_id=clone.id):
                self.copies.discard(attachment.disk_id)
            with store.db.transaction():
                for nic in store.nics.where(vm_id=clone.id):
                    store.nics.delete(nic.id)
                store.vms.delete(clone.id)
            self._set_down(source.id)

        job = self.ctx.jobs.run(f"Cloning VM {source.name} to {name}", work, owner=actor.name,
                                correlation_id=correlation_id, vm_id=clone.id,
                                on_failure=undo)
        return clone, job

    def _set_down(self, vm_id: str) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.find(vm_id)
            if vm is not None:
                self.ctx.store.vms.update(replace(vm, status=VmStatus.DOWN))
