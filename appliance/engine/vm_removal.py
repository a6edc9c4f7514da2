"""What removing a VM takes: the checks that refuse it before anything is gone, and the rows
that go with it."""

from __future__ import annotations

from appliance.engine import disk_locks
from appliance.engine.enums import SnapshotStatus, VmStatus
from appliance.engine.model import Vm
from appliance.engine.store.schema import Store
from appliance.errors import InvalidState


def require_removable(store: Store, vm: Vm) -> None:
    if vm.status is not VmStatus.DOWN:
        raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; it must be down "
                           "to be removed.")
    if any(s.status is SnapshotStatus.LOCKED for s in store.snapshots.where(vm_id=vm.id)):
        raise InvalidState(f"VM '{vm.name}' has a snapshot in use (a VM is being "
                           "made from it); remove it when that is done.")
    if any(not b.phase.finished for b in store.backups.where(vm_id=vm.id)):
        raise InvalidState(f"VM '{vm.name}' is during a backup operation; finalize "
                           "the backup before removing the VM.")
    # Checked for every disk first: a locked one found midway would leave the VM
    # with some of its disks already gone.
    disk_locks.require_unlocked(disk_locks.vm_disks(store, vm.id), doing="remove the VM")


def delete_rows(store: Store, vm_id: str) -> None:
    """The VM's NICs, snapshots, backups and checkpoints, and the VM, in one transaction
    (its disks are gone or detached by then)."""
    with store.db.transaction():
        for nic in store.nics.where(vm_id=vm_id):
            store.nics.delete(nic.id)
        for snapshot in store.snapshots.where(vm_id=vm_id):
            store.snapshots.delete(snapshot.id)
        for backup in store.backups.where(vm_id=vm_id):
            store.backups.delete(backup.id)
        for checkpoint in store.checkpoints.where(vm_id=vm_id):
            store.checkpoints.delete(checkpoint.id)
        store.vms.delete(vm_id)
