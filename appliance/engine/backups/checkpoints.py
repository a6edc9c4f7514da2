"""A VM's checkpoints (``/vms/{id}/checkpoints``): the points incremental backups start from,
in the order backups made them. Removing one drops its bitmap from the disks (through the
running VM, or from the volumes of a VM that is down) and links its child to its parent,
as oVirt does; any checkpoint may go, not only the oldest.
"""

from __future__ import annotations

import builtins
from dataclasses import replace

from appliance.engine import chains
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.backups.model import CheckpointState, VmCheckpoint
from appliance.engine.backups.service import BackupRunning, record
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskStatus, EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Vm
from appliance.engine.store.schema import Store
from appliance.engine.vms import Vms
from appliance.errors import InvalidState, NotFound, VirtStickError


class VmCheckpoints:
    def __init__(self, ctx: EngineContext, vms: Vms) -> None:
        self.ctx = ctx
        self.vms = vms

    @audited_read(AuditAction.CHECKPOINT_LIST)
    def list(self, vm_id: str, *, actor: Actor) -> builtins.list[VmCheckpoint]:
        vm = self.vms.get(vm_id, actor=actor)
        return sorted(self.ctx.store.checkpoints.where(vm_id=vm.id), key=lambda c: c.created)

    @audited_read(AuditAction.CHECKPOINT_GET)
    def get(self, vm_id: str, checkpoint_id: str, *, actor: Actor) -> VmCheckpoint:
        vm = self.vms.get(vm_id, actor=actor)
        return self._find(vm, checkpoint_id)

    @audited(AuditAction.CHECKPOINT_REMOVE)
    def remove(self, vm_id: str, checkpoint_id: str, *, actor: Actor) -> None:
        store = self.ctx.store
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_vm(actor, vm, "remove checkpoints of")
            checkpoint = self._find(vm, checkpoint_id)
            if any(not b.phase.finished for b in store.backups.where(vm_id=vm.id)):
                raise BackupRunning(f"Cannot remove checkpoint {checkpoint.id}: VM "
                                    f"'{vm.name}' is during a backup operation.")
            disks = [d for i in checkpoint.disk_ids if (d := store.disks.find(i)) is not None]
            locked = [d.name for d in disks if d.status is DiskStatus.LOCKED]
            if locked:
                raise InvalidState(f"Cannot remove checkpoint {checkpoint.id}: disk "
                                   f"'{locked[0]}' is locked.")
            running = vm.status.is_running and vm.host_id is not None
            agent = self.ctx.hosts.agent(vm.host_id) if running and vm.host_id \
                else self.ctx.hosts.any()
            volumes = {d.id: tuple(chains.volume(d, v.id) for v in chains.own_chain(store, d))
                       for d in disks}
            try:
                agent.remove_checkpoint(record(checkpoint), vm_id=vm.id if running else None,
                                        chains=volumes)
            except VirtStickError as exc:
                self.ctx.events.record(EventCode.CHECKPOINT_REMOVE_FAILED,
                                       f"Checkpoint {checkpoint.id} of VM {vm.name} could not "
                                       f"be removed: {exc.detail}",
                                       severity=EventSeverity.ERROR, vm_id=vm.id,
                                       user=actor.name)
                raise
            with store.db.transaction():
                for child in store.checkpoints.where(vm_id=vm.id):
                    if child.parent_id == checkpoint.id:
                        store.checkpoints.update(replace(child, parent_id=checkpoint.parent_id))
                store.checkpoints.delete(checkpoint.id)
        self.ctx.events.record(EventCode.CHECKPOINT_REMOVED, f"Checkpoint {checkpoint.id} of "
                               f"VM {vm.name} was removed by {actor.name}.", vm_id=vm.id,
                               user=actor.name)

    def _find(self, vm: Vm, checkpoint_id: str) -> VmCheckpoint:
        found = self.ctx.store.checkpoints.find(checkpoint_id)
        if found is None or found.vm_id != vm.id:
            raise NotFound(f"VM '{vm.name}' has no checkpoint with id '{checkpoint_id[:60]}'.")
        return found


def invalidate(store: Store, vm_id: str) -> None:
    """The VM's disks went back to an earlier state (a snapshot was committed): what its
    checkpoints' bitmaps say changed no longer holds, so no backup may start from them."""
    for checkpoint in store.checkpoints.where(vm_id=vm_id):
        if checkpoint.state is not CheckpointState.INVALID:
            store.checkpoints.update(replace(checkpoint, state=CheckpointState.INVALID))


__all__ = ["VmCheckpoints", "invalidate"]
