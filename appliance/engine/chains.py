"""The engine's view of volume chains: a disk's volumes from its top down, and the ids the
host agent names them by. The store is the only record of a chain (libvirt keeps none)."""

from __future__ import annotations

from appliance.engine.model import Disk, Volume
from appliance.engine.store.schema import Store
from appliance.vdsm.storage_interface import VolumeId


def volume(disk: Disk, volume_id: str | None = None) -> VolumeId:
    """The volume ``volume_id`` of ``disk`` (its top when not given)."""
    return VolumeId(disk.storage_domain_id, disk.id, volume_id or disk.volume_id)


def own_chain(store: Store, disk: Disk, top: str | None = None) -> list[Volume]:
    """The disk's own volumes from ``top`` (its top by default) down to the first one; a
    template's base below them belongs to the template's disk and is not listed."""
    volumes = {v.id: v for v in store.volumes.where(disk_id=disk.id)}
    found: list[Volume] = []
    current = volumes.get(top or disk.volume_id)
    while current is not None:
        found.append(current)
        current = volumes.get(current.parent_id) if current.parent_id else None
    return found


def child_in_chain(store: Store, disk: Disk, volume_id: str,
                   top: str | None = None) -> Volume | None:
    """The volume directly above ``volume_id`` in the chain ending at ``top``."""
    for volume in own_chain(store, disk, top):
        if volume.parent_id == volume_id:
            return volume
    return None


def volume_format(store: Store, disk: Disk, volume_id: str | None = None) -> str:
    """qemu's name for the format of ``disk``'s volume ``volume_id`` (its top by default),
    from the store: the host is told it and never probes it (a raw volume can hold what looks
    like a qcow2 header naming any file of the host)."""
    return store.volumes.get(volume_id or disk.volume_id).format.qemu_format
