"""VM snapshots as external qcow2 layers (VDSM's volume chain).

Taking a snapshot freezes each disk's top volume (the snapshot records it) and continues on a
new layer above it, live through libvirt or with qemu-img when the VM is down. Removing a
snapshot merges the layer above its volume into it (block commit while the guest runs).
Preview puts a new layer over the snapshot's volumes and keeps the previous tops aside, in a
"preview" snapshot: commit drops what came after, undo goes back. Restore is both at once.
"""

from __future__ import annotations

import builtins
import time
from dataclasses import replace

from appliance.engine import chains, disk_locks, snapshot_memory
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.backups.checkpoints import invalidate as invalidate_checkpoints
from appliance.engine.context import EngineContext
from appliance.engine.enums import (
    SnapshotStatus,
    SnapshotType,
    VmStatus,
)
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Disk, Snapshot, Vm, Volume
from appliance.engine.storage import StorageDomains
from appliance.engine.store.schema import Store
from appliance.errors import InvalidState, NotFound
from appliance.vdsm.storage_interface import LiveLayer

_LIVE = (VmStatus.UP, VmStatus.PAUSED)
PREVIEW_DESCRIPTION = "Active VM before the preview"


class Snapshots:
    def __init__(self, ctx: EngineContext, domains: StorageDomains) -> None:
        self.ctx = ctx
        self.domains = domains

    # Queries

    @audited_read(AuditAction.SNAPSHOT_LIST)
    def list(self, vm_id: str, *, actor: Actor) -> builtins.list[Snapshot]:
        vm = self._vm(vm_id, actor, "see the snapshots of")
        return sorted(self.ctx.store.snapshots.where(vm_id=vm.id), key=lambda s: s.date)

    @audited_read(AuditAction.SNAPSHOT_GET)
    def get(self, vm_id: str, snapshot_id: str, *, actor: Actor) -> Snapshot:
        self._vm(vm_id, actor, "see the snapshots of")
        snapshot = self.ctx.store.snapshots.find(snapshot_id)
        if snapshot is None or snapshot.vm_id != vm_id:
            raise NotFound(f"VM {vm_id} has no snapshot with id '{snapshot_id}'.")
        return snapshot

    @audited_read(AuditAction.SNAPSHOT_DISKS)
    def disks(self, vm_id: str, snapshot_id: str, *,
              actor: Actor) -> builtins.list[tuple[Disk, str]]:
        """The snapshot's disks, each with the volume that was its top when it was taken
        (disks removed since are left out)."""
        snapshot = self.get(vm_id, snapshot_id, actor=actor)
        found = []
        for disk_id, volume_id in snapshot.volumes:
            disk = self.ctx.store.disks.find(disk_id)
            if disk is not None:
                found.append((disk, volume_id))
        return found

    # Create and remove

    @audited(AuditAction.SNAPSHOT_CREATE)
    def create(self, vm_id: str, *, description: str, persist_memory: bool = False,
               actor: Actor) -> Snapshot:
        with self.ctx.locks.hold(vm_id):
            vm = self._vm(vm_id, actor, "snapshot")
            self._require_no_preview(vm)
            self._require_unlocked(vm, "take a snapshot")
            live = vm.status in _LIVE
            if not live and vm.status is not VmStatus.DOWN:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; snapshots are taken "
                                   "of VMs that are up, paused or down.")
            disks = self._disks(vm)
            snapshot = Snapshot(id=new_id(), vm_id=vm.id, description=description,
                                status=SnapshotStatus.LOCKED,
                                persist_memorystate=persist_memory and live, date=time.time(),
                                volumes=tuple((d.id, d.volume_id) for d in disks))
            layers = tuple(LiveLayer(current=chains.volume(d), new=chains.volume(d, new_id()))
                           for d in disks)
            memory = self._memory_disk(vm, disks[0] if disks else None,
                                       wanted=snapshot.persist_memorystate)
            snapshot = replace(snapshot, memory_disk_id=memory.id if memory else "")
            self.ctx.store.snapshots.insert(snapshot)
            try:
                self._make_layers(vm, layers, memory, live=live)
            except Exception:
                self._forget_memory(memory)
                self.ctx.store.snapshots.delete(snapshot.id)
                raise
            self._adopt_layers(disks, layers)
            snapshot = self.ctx.store.snapshots.update(replace(snapshot,
                                                               status=SnapshotStatus.OK))
        self.ctx.events.record(
            EventCode.SNAPSHOT_CREATED, f"Snapshot '{description}' of VM {vm.name} "
            f"was taken by {actor.name}" + (" with memory." if memory else "."),
            vm_id=vm.id, user=actor.name)
        return snapshot

    @audited(AuditAction.SNAPSHOT_REMOVE)
    def remove(self, vm_id: str, snapshot_id: str, *, actor: Actor) -> None:
        """Merge the snapshot's volumes with the layers above them; the guest keeps running."""
        with self.ctx.locks.hold(vm_id):
            snapshot = self.get(vm_id, snapshot_id, actor=actor)
            vm = self._vm(vm_id, actor, "remove snapshots of")
            self._require_no_preview(vm)
            require_no_locked_snapshot(self.ctx.store, vm)
            self._require_unlocked(vm, "remove the snapshot")
            if vm.status not in (*_LIVE, VmStatus.DOWN):
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; wait until it is up "
                                   "or down to remove a snapshot.")
            self.ctx.store.snapshots.update(replace(snapshot, status=SnapshotStatus.LOCKED))
            try:
                for disk_id, volume_id in snapshot.volumes:
                    self._merge_above(vm, disk_id, volume_id)
            except Exception:
                self.ctx.store.snapshots.update(replace(snapshot, status=SnapshotStatus.OK))
                raise
            self._forget_memory(self.ctx.store.disks.find(snapshot.memory_disk_id)
                                if snapshot.memory_disk_id else None)
            self.ctx.store.snapshots.delete(snapshot.id)
        self.ctx.events.record(
            EventCode.SNAPSHOT_REMOVED, f"Snapshot '{snapshot.description}' of VM "
            f"{vm.name} was removed by {actor.name}.", vm_id=vm.id,
            user=actor.name)

    # Preview, commit, undo, restore (the VM is down)

    @audited(AuditAction.SNAPSHOT_PREVIEW)
    def preview(self, vm_id: str, snapshot_id: str, *, actor: Actor,
                restore_memory: bool = False) -> Snapshot:
        """Show the snapshot's disks; with ``restore_memory`` (and a memory snapshot) the next
        start resumes the guest from its saved RAM instead of booting it."""
        with self.ctx.locks.hold(vm_id):
            snapshot = self.get(vm_id, snapshot_id, actor=actor)
            vm = self._down_vm(vm_id, actor, "preview snapshots of")
            self._require_no_preview(vm)
            require_no_locked_snapshot(self.ctx.store, vm)
            self._require_unlocked(vm, "preview the snapshot")
            previous: builtins.list[tuple[str, str]] = []
            for disk_id, volume_id in snapshot.volumes:
                disk = self.ctx.store.disks.find(disk_id)
                if disk is None:
                    continue  # removed since: nothing to show
                previous.append((disk.id, disk.volume_id))
                self._new_top(disk, over=volume_id)
            self.ctx.store.snapshots.insert(Snapshot(
                id=new_id(), vm_id=vm.id, description=PREVIEW_DESCRIPTION,
                type=SnapshotType.PREVIEW, date=time.time(), volumes=tuple(previous),
                # Not owned: the previewed snapshot keeps its memory disk.
                memory_disk_id=snapshot.memory_disk_id if restore_memory else ""))
            snapshot = self.ctx.store.snapshots.update(replace(snapshot,
                                                               status=SnapshotStatus.IN_PREVIEW))
        self.ctx.events.record(EventCode.SNAPSHOT_PREVIEW, f"VM {vm.name} previews snapshot "
                               f"'{snapshot.description}'.", vm_id=vm.id, user=actor.name)
        return snapshot

    @audited(AuditAction.SNAPSHOT_COMMIT)
    def commit(self, vm_id: str, *, actor: Actor) -> None:
        """Keep the previewed state: what was written after the snapshot is dropped."""
        with self.ctx.locks.hold(vm_id):
            vm = self._down_vm(vm_id, actor, "commit snapshots of")
            require_no_locked_snapshot(self.ctx.store, vm)
            self._require_unlocked(vm, "commit the preview")
            previewed, before = self._preview_pair(vm)
            frozen = dict(previewed.volumes)
            dropped: set[str] = set()
            for disk_id, old_top in before.volumes:
                disk = self.ctx.store.disks.find(disk_id)
                if disk is None:
                    continue
                chain = [v.id for v in chains.own_chain(self.ctx.store, disk, old_top)]
                if frozen.get(disk_id) not in chain:
                    continue  # the snapshot does not lie under this chain: keep it all
                for volume_id in chain[:chain.index(frozen[disk_id])]:
                    dropped.add(volume_id)
                    self._delete_volume(disk, self.ctx.store.volumes.get(volume_id))
            for later in self.ctx.store.snapshots.where(vm_id=vm.id):
                if later.type is SnapshotType.REGULAR and any(
                        v in dropped for _, v in later.volumes):
                    self._forget_snapshot(later)
            self.ctx.store.snapshots.delete(before.id)
            self.ctx.store.snapshots.update(replace(previewed, status=SnapshotStatus.OK))
            invalidate_checkpoints(self.ctx.store, vm.id)  # oVirt's rule too
        self.ctx.events.record(
            EventCode.SNAPSHOT_COMMITTED, f"VM {vm.name} was restored to snapshot "
            f"'{previewed.description}'.", vm_id=vm.id, user=actor.name)

    @audited(AuditAction.SNAPSHOT_UNDO)
    def undo(self, vm_id: str, *, actor: Actor) -> None:
        """Leave the preview: the disks go back to what they were before it."""
        with self.ctx.locks.hold(vm_id):
            vm = self._down_vm(vm_id, actor, "undo snapshot previews of")
            require_no_locked_snapshot(self.ctx.store, vm)
            self._require_unlocked(vm, "undo the preview")
            previewed, before = self._preview_pair(vm)
            for disk_id, old_top in before.volumes:
                disk = self.ctx.store.disks.find(disk_id)
                if disk is None:
                    continue
                preview_layer = self.ctx.store.volumes.get(disk.volume_id)
                disk = self.ctx.store.disks.update(replace(disk, volume_id=old_top))
                self._delete_volume(disk, preview_layer)
            self.ctx.store.snapshots.delete(before.id)
            self.ctx.store.snapshots.update(replace(previewed, status=SnapshotStatus.OK))
        self.ctx.events.record(
            EventCode.SNAPSHOT_UNDONE, f"VM {vm.name} left the preview of snapshot "
            f"'{previewed.description}'.", vm_id=vm.id, user=actor.name)

    @audited(AuditAction.SNAPSHOT_RESTORE)
    def restore(self, vm_id: str, snapshot_id: str, *, actor: Actor) -> None:
        """oVirt's snapshot ``restore``: preview and commit in one step."""
        self.preview(vm_id, snapshot_id, actor=actor)
        self.commit(vm_id, actor=actor)

    # Steps

    def _make_layers(self, vm: Vm, layers: tuple[LiveLayer, ...], memory: Disk | None, *,
                     live: bool) -> None:
        if live:
            assert vm.host_id is not None
            self.ctx.hosts.agent(vm.host_id).snapshot_live(
                vm.id, layers, memory=chains.volume(memory) if memory is not None else None)
            return
        agent = self.ctx.hosts.any()
        made: builtins.list[LiveLayer] = []
        try:
            for layer in layers:
                disk = self.ctx.store.disks.get(layer.current.image_id)
                agent.create_volume(layer.new, size=disk.provisioned_size, parent=layer.current,
                                    parent_format=chains.volume_format(self.ctx.store, disk))
                made.append(layer)
        except Exception:
            for layer in made:
                agent.delete_volume(layer.new)
            raise

    def _adopt_layers(self, disks: builtins.list[Disk], layers: tuple[LiveLayer, ...]) -> None:
        with self.ctx.store.db.transaction():
            for disk, layer in zip(disks, layers, strict=True):
                self.ctx.store.volumes.insert(Volume(
                    id=layer.new.volume_id, disk_id=disk.id,
                    storage_domain_id=disk.storage_domain_id, parent_id=disk.volume_id,
                    created=time.time()))
                self.ctx.store.disks.update(replace(disk, volume_id=layer.new.volume_id))

    def _merge_above(self, vm: Vm, disk_id: str, volume_id: str) -> None:
        """Merge the layer above ``volume_id`` into it and forget that layer."""
        store = self.ctx.store
        disk = store.disks.find(disk_id)
        if disk is None:
            return
        above = chains.child_in_chain(store, disk, volume_id)
        if above is None:
            return  # nothing above: the volume is the disk's top already
        grandchild = chains.child_in_chain(store, disk, above.id)
        running = vm.status in _LIVE and vm.host_id is not None
        agent = self.ctx.hosts.agent(vm.host_id) if running and vm.host_id else \
            self.ctx.hosts.any()
        agent.commit_volume(top=chains.volume(disk, above.id),
                            base=chains.volume(disk, volume_id),
                            child=chains.volume(disk, grandchild.id) if grandchild else None,
                            vm_id=vm.id if running else None)
        with store.db.transaction():
            if grandchild is not None:
                store.volumes.update(replace(grandchild, parent_id=volume_id))
            else:
                store.disks.update(replace(disk, volume_id=volume_id))
            store.volumes.delete(above.id)
            for other in store.snapshots.where(vm_id=vm.id):
                if (disk.id, above.id) in other.volumes:
                    store.snapshots.update(replace(other, volumes=tuple(
                        (d, volume_id if v == above.id else v) for d, v in other.volumes)))

    def _new_top(self, disk: Disk, *, over: str) -> Disk:
        new = new_id()
        self.ctx.hosts.any().create_volume(
            chains.volume(disk, new), size=disk.provisioned_size,
            parent=chains.volume(disk, over),
            parent_format=chains.volume_format(self.ctx.store, disk, over))
        with self.ctx.store.db.transaction():
            self.ctx.store.volumes.insert(Volume(id=new, disk_id=disk.id,
                                                 storage_domain_id=disk.storage_domain_id,
                                                 parent_id=over, created=time.time()))
            return self.ctx.store.disks.update(replace(disk, volume_id=new))

    def _delete_volume(self, disk: Disk, volume: Volume) -> None:
        self.ctx.hosts.any().delete_volume(chains.volume(disk, volume.id))
        self.ctx.store.volumes.delete(volume.id)

    def _memory_disk(self, vm: Vm, first: Disk | None, *, wanted: bool) -> Disk | None:
        """A raw disk to hold the guest's RAM, beside the VM's first disk (oVirt's memory
        dump disk)."""
        if not wanted:
            return None
        return snapshot_memory.new_memory_disk(
            self.ctx, self.domains, vm, near=first,
            name=f"{vm.name}_memory_{int(time.time())}", description=f"Memory of VM {vm.name}")

    def _forget_memory(self, memory: Disk | None) -> None:
        snapshot_memory.forget_memory_disk(self.ctx, memory)

    def _forget_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.memory_disk_id:
            self._forget_memory(self.ctx.store.disks.find(snapshot.memory_disk_id))
        self.ctx.store.snapshots.delete(snapshot.id)

    # Checks

    def _vm(self, vm_id: str, actor: Actor, what: str) -> Vm:
        vm = self.ctx.store.vms.find(vm_id)
        if vm is None:
            raise NotFound(f"There is no VM with id '{vm_id}'.")
        require_vm(actor, vm, what)
        return vm

    def _down_vm(self, vm_id: str, actor: Actor, what: str) -> Vm:
        vm = self._vm(vm_id, actor, what)
        if vm.status is not VmStatus.DOWN:
            raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; it must be down to "
                               f"{what} it.")
        return vm

    def _disks(self, vm: Vm) -> builtins.list[Disk]:
        found = []
        for attachment in self.ctx.store.attachments.where(vm_id=vm.id):
            disk = self.ctx.store.disks.get(attachment.disk_id)
            if attachment.active and not disk.shareable:
                found.append(disk)
        return found

    def _require_unlocked(self, vm: Vm, doing: str) -> None:
        disk_locks.require_unlocked(disk_locks.vm_disks(self.ctx.store, vm.id), doing=doing)

    def _require_no_preview(self, vm: Vm) -> None:
        if any(s.type is SnapshotType.PREVIEW for s in self.ctx.store.snapshots.where(vm_id=vm.id)):
            raise InvalidState(f"VM '{vm.name}' is previewing a snapshot; commit or undo the "
                               "preview first.")

    def _preview_pair(self, vm: Vm) -> tuple[Snapshot, Snapshot]:
        snapshots = self.ctx.store.snapshots.where(vm_id=vm.id)
        previewed = [s for s in snapshots if s.status is SnapshotStatus.IN_PREVIEW]
        before = [s for s in snapshots if s.type is SnapshotType.PREVIEW]
        if not previewed or not before:
            raise InvalidState(f"VM '{vm.name}' is not previewing a snapshot.")
        return previewed[0], before[0]


def require_no_locked_snapshot(store: Store, vm: Vm) -> None:
    """A locked snapshot is being read (a VM is made from it): its volumes must stay."""
    for snapshot in store.snapshots.where(vm_id=vm.id):
        if snapshot.status is SnapshotStatus.LOCKED:
            raise InvalidState(f"Snapshot '{snapshot.description}' of VM '{vm.name}' is in "
                               "use; try again when it is ok.")
