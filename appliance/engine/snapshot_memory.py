"""The saved RAM a VM resumes from: set by previewing a memory snapshot with
``restore_memory``, taken once by the next start (later starts boot the previewed disks)."""

from __future__ import annotations

from dataclasses import replace

from appliance.engine import chains
from appliance.engine.enums import SnapshotType
from appliance.engine.store.schema import Store
from appliance.vdsm.storage_interface import VolumeId


def memory_to_restore(store: Store, vm_id: str) -> VolumeId | None:
    """The volume holding the RAM to resume from, consumed by this call."""
    for preview in store.snapshots.where(vm_id=vm_id):
        if preview.type is SnapshotType.PREVIEW and preview.memory_disk_id:
            memory = store.disks.find(preview.memory_disk_id)
            store.snapshots.update(replace(preview, memory_disk_id=""))
            if memory is not None:
                return chains.volume(memory)
    return None
