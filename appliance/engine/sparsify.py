"""Sparsify a disk: give the storage domain back the space its zeroed blocks take, as
oVirt's ``POST /disks/{id}/sparsify`` does, in a job while the disk is locked.

oVirt's rules: the disk's VMs are down, the disk is thin (a preallocated disk keeps its
space by design), it has no snapshots (its one volume is what is rewritten), no other disk
lies over it (a template's), and it is neither locked nor illegal. The host rewrites the
volume and checks that the guest reads the same bytes before it replaces it.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace

from appliance.engine import chains, permissions, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskContentType, DiskStatus, EventSeverity, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.jobs import JobContext
from appliance.engine.model import Disk, Job, Vm
from appliance.errors import InvalidState, NotSupported


class DiskSparsify:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    @audited(AuditAction.DISK_SPARSIFY)
    def sparsify(self, disk_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        """Lock the disk and rewrite its volume without zeroed clusters, in a job; the disk
        is ok again when the job ends, whatever its outcome."""
        store = self.ctx.store
        found = permissions.get_disk(store, actor, disk_id)
        # A template's disk is attached to the template, not to a VM.
        vms = [vm for a in store.attachments.where(disk_id=found.id)
               if (vm := store.vms.find(a.vm_id)) is not None]
        with ExitStack() as held:
            for vm in vms:
                held.enter_context(self.ctx.locks.hold(vm.id))
            held.enter_context(self.ctx.locks.hold(found.id))
            disk = store.disks.get(found.id)
            self._require_sparsifiable(disk, [store.vms.get(vm.id) for vm in vms], actor)
            store.disks.update(replace(disk, status=DiskStatus.LOCKED))
        self.ctx.events.record(EventCode.DISK_SPARSIFY_STARTED,
                               f"Disk {disk.name} sparsification was started by "
                               f"{actor.name}.", user=actor.name,
                               storage_domain_id=disk.storage_domain_id,
                               correlation_id=correlation_id)

        def work(job: JobContext) -> None:
            result = self.ctx.hosts.any().sparsify_volume(
                chains.volume(disk), fmt=disk.format.qemu_format, progress=job.progress)
            self._unlock(disk)
            self.ctx.events.record(
                EventCode.DISK_SPARSIFIED,
                f"Disk {disk.name} was sparsified: {validation.human_size(result.freed)} "
                f"given back to its storage domain.", user=actor.name,
                storage_domain_id=disk.storage_domain_id, correlation_id=correlation_id)

        def failed() -> None:
            self._unlock(disk)
            self.ctx.events.record(EventCode.DISK_SPARSIFY_FAILED,
                                   f"Disk {disk.name} could not be sparsified; it is "
                                   "unchanged.", severity=EventSeverity.ERROR,
                                   user=actor.name, storage_domain_id=disk.storage_domain_id,
                                   correlation_id=correlation_id)

        return self.ctx.jobs.run(f"Sparsifying disk {disk.name}", work, owner=actor.name,
                                 correlation_id=correlation_id, on_failure=failed)

    def _require_sparsifiable(self, disk: Disk, vms: list[Vm], actor: Actor) -> None:
        for vm in vms:
            require_vm(actor, vm, "change the disks of")
            if vm.status is not VmStatus.DOWN:
                raise InvalidState(f"Disk '{disk.name}' is in use by VM '{vm.name}', which is "
                                   f"{vm.status.value}; a disk is sparsified while its VMs "
                                   "are down.")
        if disk.status is not DiskStatus.OK:
            raise InvalidState(f"Disk '{disk.name}' is {disk.status.value}; it is sparsified "
                               "when it is ok.")
        if not disk.sparse:
            raise NotSupported(f"Disk '{disk.name}' is preallocated: sparsify applies to thin "
                               "provisioned disks only.")
        if disk.content_type is DiskContentType.ISO:
            raise NotSupported(f"'{disk.name}' is an ISO image, not a virtual disk; it "
                               "cannot be sparsified.")
        store = self.ctx.store
        if len(chains.own_chain(store, disk)) > 1:
            raise InvalidState(f"Disk '{disk.name}' has snapshots; remove them to sparsify "
                               "the disk.")
        if any(v.parent_id == disk.volume_id and v.disk_id != disk.id
               for v in store.volumes.all()):
            raise InvalidState(f"Disk '{disk.name}' is the base of other disks (a template's "
                               "VMs lie over it); it cannot be sparsified.")

    def _unlock(self, disk: Disk) -> None:
        with self.ctx.locks.hold(disk.id):
            current = self.ctx.store.disks.find(disk.id)
            if current is not None and current.status is DiskStatus.LOCKED:
                self.ctx.store.disks.update(replace(current, status=DiskStatus.OK))
