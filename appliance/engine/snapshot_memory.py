"""Disks that hold a guest's saved RAM (oVirt's memory dump disks: a memory snapshot's, a
suspended VM's), and the saved RAM a VM resumes from: set by previewing a memory snapshot
with ``restore_memory``, taken once by the next start (later starts boot the previewed
disks)."""

from __future__ import annotations

import time
from dataclasses import replace

from appliance.engine import chains
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskContentType, DiskFormat, SnapshotType
from appliance.engine.ids import new_id
from appliance.engine.model import Disk, Vm, Volume
from appliance.engine.storage import StorageDomains
from appliance.engine.store.schema import Store
from appliance.vdsm.storage_interface import VolumeId


def new_memory_disk(ctx: EngineContext, domains: StorageDomains, vm: Vm, *,
                    near: Disk | None, name: str, description: str) -> Disk:
    """A raw disk the size of the guest's RAM, in the storage domain of ``near`` (the VM's
    first disk) or the first domain; libvirt writes the file."""
    store = ctx.store
    domain = store.storage_domains.get(near.storage_domain_id if near is not None
                                       else domains.default().id)
    domains.require_room(domain, vm.memory, sparse=False)
    disk = Disk(id=new_id(), name=name, storage_domain_id=domain.id,
                provisioned_size=vm.memory, volume_id=new_id(), format=DiskFormat.RAW,
                sparse=False, description=description, created=time.time(),
                content_type=DiskContentType.MEMORY_DUMP)
    with store.db.transaction():
        store.volumes.insert(Volume(id=disk.volume_id, disk_id=disk.id,
                                    storage_domain_id=domain.id, parent_id=None,
                                    format=DiskFormat.RAW, created=time.time()))
        return store.disks.insert(disk)


def forget_memory_disk(ctx: EngineContext, memory: Disk | None) -> None:
    if memory is None:
        return
    ctx.hosts.any().delete_image(storage_domain_id=memory.storage_domain_id,
                                 image_id=memory.id)
    with ctx.store.db.transaction():
        for volume in ctx.store.volumes.where(disk_id=memory.id):
            ctx.store.volumes.delete(volume.id)
        ctx.store.disks.delete(memory.id)


def memory_to_restore(store: Store, vm_id: str) -> VolumeId | None:
    """The volume holding the RAM to resume from, consumed by this call."""
    for preview in store.snapshots.where(vm_id=vm_id):
        if preview.type is SnapshotType.PREVIEW and preview.memory_disk_id:
            memory = store.disks.find(preview.memory_disk_id)
            store.snapshots.update(replace(preview, memory_disk_id=""))
            if memory is not None:
                return chains.volume(memory)
    return None


def saved_state_of(ctx: EngineContext, vm: Vm) -> VolumeId | None:
    """The volume a suspended VM resumes from."""
    memory = ctx.store.disks.find(vm.saved_state_disk_id) if vm.saved_state_disk_id else None
    return chains.volume(memory) if memory is not None else None


def discard_saved_state(ctx: EngineContext, vm: Vm) -> Vm:
    """Forget the saved state (resumed from, or thrown away by a stop)."""
    memory = ctx.store.disks.find(vm.saved_state_disk_id) if vm.saved_state_disk_id else None
    forget_memory_disk(ctx, memory)
    return ctx.store.vms.update(replace(vm, saved_state_disk_id=""))
