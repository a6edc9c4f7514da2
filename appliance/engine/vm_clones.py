"""Clone a VM (oVirt's ``clone`` action) or make a VM from one of its snapshots (``POST /vms``
with the snapshot): a new VM with the same settings, new MACs and independent copies of the
disks (each chain collapsed; from a snapshot, as the snapshot froze them), made by a job
while the new VM is IMAGE_LOCKED. A clone locks its source VM meanwhile, a VM from a
snapshot locks only that snapshot (its volumes no longer change, so the VM may run). If a
copy fails the new VM is removed and the source unlocked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import disk_locks, mac_pools, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import SnapshotStatus, SnapshotType, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.jobs import JobContext
from appliance.engine.model import DiskAttachment, Job, Vm
from appliance.errors import InvalidState, NameInUse, NotFound


@dataclass(frozen=True)
class _Source:
    """One disk to copy: how the source attaches it, and the volume to copy from."""

    attachment: DiskAttachment
    volume_id: str


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
            disk_locks.require_unlocked(disk_locks.vm_disks(store, source.id),
                                        doing="clone the VM")
            clone = self._insert_clone(source, name=name, cluster_id=source.cluster_id,
                                       actor=actor)
            store.vms.update(replace(source, status=VmStatus.IMAGE_LOCKED))
        disks = [_Source(a, store.disks.get(a.disk_id).volume_id)
                 for a in store.attachments.where(vm_id=source.id)]
        return clone, self._copy(
            source, clone, disks, actor=actor, correlation_id=correlation_id,
            description=f"Cloning VM {source.name} to {name}",
            done=f"VM {source.name} was cloned to {name} by {actor.name}.",
            unlock=lambda: self._set_down(source.id))

    @audited(AuditAction.VM_CLONE_CLONE_FROM_SNAPSHOT)
    def clone_from_snapshot(self, snapshot_id: str, *, name: str, actor: Actor,
                            cluster_id: str | None = None,
                            correlation_id: str = "") -> tuple[Vm, Job]:
        """A new VM with copies of the snapshot's disks as they were when it was taken."""
        store = self.ctx.store
        validation.name(name, noun="VM")
        found = store.snapshots.find(snapshot_id)
        if found is None:
            raise NotFound(f"There is no snapshot with id '{snapshot_id[:60]}'.")
        with self.ctx.locks.hold(found.vm_id):
            source = store.vms.get(found.vm_id)
            require_vm(actor, source, "clone")
            snapshot = store.snapshots.get(snapshot_id)
            if snapshot.type is not SnapshotType.REGULAR or snapshot.status is not \
                    SnapshotStatus.OK:
                raise InvalidState(f"Snapshot '{snapshot.description}' of VM {source.name} "
                                   f"is {snapshot.status.value}; a VM is made only from a "
                                   "snapshot that is ok.")
            cluster = store.clusters.get(cluster_id or source.cluster_id)
            clone = self._insert_clone(source, name=name, cluster_id=cluster.id, actor=actor)
            store.snapshots.update(replace(snapshot, status=SnapshotStatus.LOCKED))
        attachments = {a.disk_id: a for a in store.attachments.where(vm_id=source.id)}
        disks = [_Source(attachments.get(disk_id) or DiskAttachment(
                     id=disk_id, vm_id=source.id, disk_id=disk_id), volume_id)
                 for disk_id, volume_id in snapshot.volumes
                 if store.disks.find(disk_id) is not None]

        def unlock() -> None:
            with self.ctx.locks.hold(source.id):
                current = store.snapshots.find(snapshot.id)
                if current is not None:
                    store.snapshots.update(replace(current, status=SnapshotStatus.OK))

        return clone, self._copy(
            source, clone, disks, actor=actor, correlation_id=correlation_id,
            description=f"Making VM {name} from snapshot '{snapshot.description}' of VM "
                        f"{source.name}",
            done=f"VM {name} was made from snapshot '{snapshot.description}' of VM "
                 f"{source.name} by {actor.name}.", unlock=unlock)

    def _insert_clone(self, source: Vm, *, name: str, cluster_id: str, actor: Actor) -> Vm:
        store = self.ctx.store
        clone = replace(source, id=new_id(), name=name, cluster_id=cluster_id,
                        status=VmStatus.IMAGE_LOCKED, host_id=None, created=time.time(),
                        start_time=0.0, stop_time=0.0, stop_reason="",
                        owner_id=None if actor.superuser else actor.user_id)
        with store.db.transaction():
            if store.vms.by_name(name) is not None:
                raise NameInUse(f"The name '{name}' is already used by another VM.")
            store.vms.insert(clone)
            for nic in store.nics.where(vm_id=source.id):
                store.nics.insert(replace(nic, id=new_id(), vm_id=clone.id,
                                          mac=mac_pools.allocate(store, clone.cluster_id)))
        return clone

    def _copy(self, source: Vm, clone: Vm, disks: list[_Source], *, actor: Actor,
              correlation_id: str, description: str, done: str,
              unlock: Callable[[], None]) -> Job:
        store = self.ctx.store

        def work(job: JobContext) -> None:
            for index, item in enumerate(disks):
                disk = replace(store.disks.get(item.attachment.disk_id), volume_id=item.volume_id)

                def progress(percent: int, index: int = index) -> None:
                    job.progress((index * 100 + percent) // max(1, len(disks)))

                copy = self.copies.copy(disk, name=f"{clone.name}_{disk.name}"[:100],
                                        progress=progress)
                store.attachments.insert(replace(item.attachment, id=copy.id, vm_id=clone.id,
                                                 disk_id=copy.id))
            self._set_down(clone.id)
            unlock()
            self.ctx.events.record(EventCode.VM_CLONED, done, vm_id=clone.id, user=actor.name,
                                   correlation_id=correlation_id)

        def undo() -> None:
            for attachment in store.attachments.where(vm_id=clone.id):
                self.copies.discard(attachment.disk_id)
            with store.db.transaction():
                for nic in store.nics.where(vm_id=clone.id):
                    store.nics.delete(nic.id)
                store.vms.delete(clone.id)
            unlock()

        return self.ctx.jobs.run(description, work, owner=actor.name,
                                 correlation_id=correlation_id, vm_id=clone.id,
                                 on_failure=undo)

    def _set_down(self, vm_id: str) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.find(vm_id)
            if vm is not None:
                self.ctx.store.vms.update(replace(vm, status=VmStatus.DOWN))
