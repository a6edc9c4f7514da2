"""Disk snapshots (oVirt's ``disksnapshots``): the volumes of a disk's chain, each what the
disk showed when a VM snapshot froze it, or its active top. Their ids are volume ids, which
is what an image transfer's ``<snapshot id>`` names."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine import chains, permissions
from appliance.engine.audit import audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.context import EngineContext
from appliance.engine.model import Disk, Snapshot, Volume
from appliance.errors import NotFound


@dataclass(frozen=True)
class DiskSnapshot:
    volume: Volume
    disk: Disk
    snapshot_id: str  # the VM snapshot that froze this volume; "" for the disk's top
    description: str
    active: bool  # the disk's top volume, where the disk writes now
    parent_id: str | None  # the disk snapshot below, within the disk's own chain

    @property
    def id(self) -> str:
        return self.volume.id


class DiskSnapshots:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    @audited_read(AuditAction.DISK_SNAPSHOT_LIST_OF_DOMAIN)
    def of_domain(self, domain_id: str, *, actor: Actor) -> list[DiskSnapshot]:
        self.ctx.store.storage_domains.get(domain_id)
        return [s for disk in permissions.visible_disks(self.ctx.store, actor)
                if disk.storage_domain_id == domain_id for s in self._of(disk)]

    @audited_read(AuditAction.DISK_SNAPSHOT_LIST_OF_DISK)
    def of_disk(self, disk_id: str, *, actor: Actor) -> list[DiskSnapshot]:
        return self._of(permissions.get_disk(self.ctx.store, actor, disk_id))

    @audited_read(AuditAction.DISK_SNAPSHOT_GET)
    def get(self, snapshot_id: str, *, actor: Actor, disk_id: str = "",
            domain_id: str = "") -> DiskSnapshot:
        volume = self.ctx.store.volumes.find(snapshot_id)
        disk = self.ctx.store.disks.find(volume.disk_id) if volume is not None else None
        if (disk is None or not permissions.can_use_disk(self.ctx.store, actor, disk)
                or (disk_id and disk.id != disk_id)
                or (domain_id and disk.storage_domain_id != domain_id)):
            raise NotFound(f"There is no disk snapshot with id '{snapshot_id}'.")
        for found in self._of(disk):
            if found.id == snapshot_id:
                return found
        raise NotFound(f"There is no disk snapshot with id '{snapshot_id}'.")

    def size(self, snapshot: DiskSnapshot) -> int:
        """Bytes the volume itself takes on the host."""
        return self.ctx.hosts.any().volume_info(
            chains.volume(snapshot.disk, snapshot.volume.id),
            fmt=snapshot.volume.format.qemu_format).actual_size

    def _of(self, disk: Disk) -> list[DiskSnapshot]:
        frozen: dict[str, Snapshot] = {}
        for taken in self.ctx.store.snapshots.all():
            for disk_id, volume_id in taken.volumes:
                if disk_id == disk.id:
                    frozen[volume_id] = taken
        found = []
        own = chains.own_chain(self.ctx.store, disk)
        ids = {v.id for v in own}
        for volume in reversed(own):
            snapshot = frozen.get(volume.id)
            active = volume.id == disk.volume_id
            found.append(DiskSnapshot(
                volume=volume, disk=disk, snapshot_id=snapshot.id if snapshot else "",
                description=snapshot.description if snapshot else
                ("Active VM" if active else ""), active=active,
                parent_id=volume.parent_id if volume.parent_id in ids else None))
        return found
