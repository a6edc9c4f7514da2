"""Independent copies of disks: a chain collapsed into one new volume (oVirt's "Clone" from a
template, a template's base made from a VM, a VM copied for export)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from appliance.engine import chains
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskFormat, DiskStatus, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.jobs import JobContext
from appliance.engine.model import Disk, Job, Vm, Volume
from appliance.engine.storage import StorageDomains

Progress = Callable[[int], None]


class DiskCopies:
    def __init__(self, ctx: EngineContext, domains: StorageDomains) -> None:
        self.ctx = ctx
        self.domains = domains

    def copy(self, source: Disk, *, name: str, template_id: str | None = None,
             progress: Progress | None = None) -> Disk:
        """A new disk holding what ``source`` shows (its whole chain), in the same domain.

        The disk is recorded LOCKED first, so a failure leaves a record to clean up with
        ``discard`` rather than a file nobody knows."""
        store = self.ctx.store
        domain = store.storage_domains.get(source.storage_domain_id)
        self.domains.require_room(domain, self._chain_size(source), sparse=False)
        disk = Disk(id=new_id(), name=name, storage_domain_id=domain.id,
                    provisioned_size=source.provisioned_size, volume_id=new_id(),
                    format=DiskFormat.COW, sparse=True, status=DiskStatus.LOCKED,
                    description=source.description, template_id=template_id,
                    created=time.time())
        with store.db.transaction():
            store.disks.insert(disk)
            store.volumes.insert(Volume(id=disk.volume_id, disk_id=disk.id,
                                        storage_domain_id=domain.id, parent_id=None,
                                        created=time.time()))
        try:
            self.ctx.hosts.any().collapse_volume(
                chains.volume(source), chains.volume(disk),
                # The top's format: a raw disk's top is a qcow2 once it has snapshots.
                source_format=chains.volume_format(store, source), progress=progress)
            if template_id is not None:
                self.ctx.hosts.any().set_volume_read_only(chains.volume(disk), True)
        except BaseException:
            self.discard(disk.id)
            raise
        return store.disks.update(replace(disk, status=DiskStatus.OK))

    @audited(AuditAction.DISK_COPY_CLONE_TEMPLATE_DISKS)
    def clone_template_disks(self, vm: Vm, *, actor: Actor) -> Job:
        """Give ``vm`` (IMAGE_LOCKED) independent copies of its template's disks, in a job;
        the VM turns DOWN when they are made, and is removed if that fails."""
        store = self.ctx.store
        template = store.templates.get(vm.template_id)
        attachments = store.attachments.where(vm_id=template.id)

        def work(job: JobContext) -> None:
            for index, attachment in enumerate(attachments):
                base = store.disks.get(attachment.disk_id)

                def progress(percent: int, index: int = index) -> None:
                    job.progress((index * 100 + percent) // max(1, len(attachments)))

                disk = self.copy(base, name=f"{vm.name}_{base.name}", progress=progress)
                store.attachments.insert(replace(attachment, id=disk.id, vm_id=vm.id,
                                                 disk_id=disk.id))
            with self.ctx.locks.hold(vm.id):
                store.vms.update(replace(store.vms.get(vm.id), status=VmStatus.DOWN))
            self.ctx.events.record(EventCode.VM_CLONED, f"VM {vm.name} got its copies of template "
                                   f"{template.name}'s disks.", vm_id=vm.id, user=actor.name)

        def undo() -> None:
            for attachment in store.attachments.where(vm_id=vm.id):
                self.discard(attachment.disk_id)
            with store.db.transaction():
                for nic in store.nics.where(vm_id=vm.id):
                    store.nics.delete(nic.id)
                store.vms.delete(vm.id)

        return self.ctx.jobs.run(f"Cloning template {template.name} for VM {vm.name}", work,
                                 owner=actor.name, vm_id=vm.id, on_failure=undo)

    def discard(self, disk_id: str) -> None:
        """Forget a disk and its files (a half-made copy, or one of a failed operation)."""
        store = self.ctx.store
        disk = store.disks.find(disk_id)
        if disk is None:
            return
        self.ctx.hosts.any().delete_image(storage_domain_id=disk.storage_domain_id,
                                          image_id=disk.id)
        with store.db.transaction():
            for attachment in store.attachments.where(disk_id=disk.id):
                store.attachments.delete(attachment.id)
            for volume in store.volumes.where(disk_id=disk.id):
                store.volumes.delete(volume.id)
            store.disks.delete(disk.id)

    def _chain_size(self, disk: Disk) -> int:
        """What the chain occupies on the host, an upper bound of what a copy takes."""
        store = self.ctx.store
        total = 0
        current: Disk | None = disk
        top = disk.volume_id
        while current is not None:
            volumes = chains.own_chain(store, current, top)
            for volume in volumes:
                total += self.ctx.hosts.any().volume_info(
                    chains.volume(current, volume.id), fmt=volume.format.qemu_format).actual_size
            below = store.volumes.find(volumes[-1].parent_id or "") if volumes else None
            current = store.disks.find(below.disk_id) if below is not None else None
            top = below.id if below is not None else ""
        return total
