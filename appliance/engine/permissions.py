"""Access to objects that belong to VMs (disks, NICs, snapshots): a user may touch them when
they may use the VM; a free (floating) disk is its creator's; template disks and other free
disks are for SuperUsers."""

from __future__ import annotations

from appliance.engine.authz import Actor, can_use_vm
from appliance.engine.model import Disk
from appliance.engine.store.schema import Store
from appliance.errors import NotFound


def can_use_disk(store: Store, actor: Actor, disk: Disk) -> bool:
    if actor.superuser or (disk.owner_id is not None and disk.owner_id == actor.user_id):
        return True
    for attachment in store.attachments.where(disk_id=disk.id):
        vm = store.vms.find(attachment.vm_id)
        if vm is not None and can_use_vm(actor, vm):
            return True
    return False


def visible_disks(store: Store, actor: Actor) -> list[Disk]:
    return [d for d in store.disks.all() if can_use_disk(store, actor, d)]


def get_disk(store: Store, actor: Actor, disk_id: str) -> Disk:
    disk = store.disks.get(disk_id)
    if not can_use_disk(store, actor, disk):
        raise NotFound(f"There is no disk with id '{disk_id}'.")
    return disk
