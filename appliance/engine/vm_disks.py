"""A VM's disks as its owner changes them in the portals: a new disk named and placed for
it, and a disk grown (live, when the VM runs). Attaching is ``Vms.attach_new_disk``,
detaching ``Vms.detach_disk``."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskInterface, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Disk
from appliance.engine.storage import DiskCreate, Disks, DiskUpdate, StorageDomains
from appliance.engine.vms import Vms
from appliance.errors import InvalidInput, NotFound

# A running guest's disk grows through QEMU; in other moments its chain may be moving.
_LIVE = (VmStatus.UP, VmStatus.PAUSED)


@dataclass(frozen=True)
class NewVmDisk:
    size: int  # bytes
    name: str = ""  # "<vm>_diskN" when empty
    storage_domain_id: str | None = None  # the default domain when None
    interface: DiskInterface = DiskInterface.VIRTIO
    bootable: bool = False


class VmDisks:
    def __init__(self, ctx: EngineContext, *, vms: Vms, disks: Disks,
                 domains: StorageDomains) -> None:
        self.ctx = ctx
        self.vms = vms
        self.disks = disks
        self.domains = domains

    @audited(AuditAction.VM_DISK_ADD)
    def add(self, vm_id: str, request: NewVmDisk, *, actor: Actor) -> Disk:
        """A new thin disk, attached to the VM (which must be down), named after the VM
        when no name is given."""
        vm = self.vms.get(vm_id, actor=actor)
        taken = len(self.vms.list_disk_attachments(vm.id, actor=actor))
        attachment = self.vms.attach_new_disk(vm.id, DiskCreate(
            name=request.name or f"{vm.name}_disk{taken + 1}", provisioned_size=request.size,
            storage_domain_id=request.storage_domain_id or self.domains.default().id),
            actor=actor, interface=request.interface, bootable=request.bootable)
        disk = self.ctx.store.disks.get(attachment.disk_id)
        self.ctx.events.record(EventCode.VM_DISK_ADDED, f"Disk {disk.name} "
                               f"({validation.human_size(disk.provisioned_size)}) was added to "
                               f"VM {vm.name} by {actor.name}.", vm_id=vm.id, user=actor.name)
        return disk

    @audited(AuditAction.VM_DISK_RESIZE)
    def resize(self, vm_id: str, disk_id: str, *, size: int, actor: Actor) -> Disk:
        """Grow one of the VM's disks to ``size`` bytes (disks never shrink: the guest's
        file systems would be cut). While the VM runs the guest sees the new size at once."""
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            attachment = self.ctx.store.attachments.find(disk_id)
            if attachment is None or attachment.vm_id != vm.id:
                raise NotFound(f"VM '{vm.name}' has no disk with id '{disk_id}'.")
            disk = self.ctx.store.disks.get(disk_id)
            if size <= disk.provisioned_size:
                has = validation.human_size(disk.provisioned_size)
                raise InvalidInput(f"Disk {disk.name} has {has}; disks only grow, so ask for "
                                   "more than that.")
            return self.disks.update(disk_id, DiskUpdate(provisioned_size=size), actor=actor)
