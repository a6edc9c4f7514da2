"""Storage domains and disks: room checks against thin overcommit, volume chains, sizes."""

from __future__ import annotations

import builtins
import time
import uuid
from dataclasses import dataclass, replace

from appliance.engine import chains, datacenter_quotas, permissions, quotas, validation
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, can_use_vm, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import (
    DiskContentType,
    DiskFormat,
    DiskStatus,
    StorageDomainStatus,
    VmStatus,
)
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Disk, DiskProfile, StorageDomain, Vm, Volume
from appliance.errors import (
    DiskCannotShrink,
    InsufficientResources,
    InvalidInput,
    InvalidState,
    NameInUse,
    NotFound,
    PermissionDenied,
)
from appliance.vdsm.agent_interface import HostAgent
from appliance.vdsm.storage_interface import RamUse, StorageConnection

_PROFILES = uuid.UUID("6d1a3c0e-5b7f-4f7e-9a51-0c1d2e3f4a5b")  # namespace of profile ids


@dataclass(frozen=True)
class DomainUsage:
    capacity: int
    used: int
    free: int
    committed: int  # sum of the disks' provisioned sizes
    ram: RamUse | None = None  # what a domain in memory holds of the host's RAM

    @property
    def overcommit_ratio(self) -> float:
        return self.committed / self.capacity if self.capacity else 0.0


@dataclass(frozen=True)
class DiskCreate:
    name: str
    provisioned_size: int
    storage_domain_id: str
    format: DiskFormat = DiskFormat.COW
    sparse: bool = True
    description: str = ""
    content_type: DiskContentType = DiskContentType.DATA
    id: str = ""  # a client may choose the new disk's id (oVirt's SDK does, from an OVF)


@dataclass(frozen=True)
class DiskUpdate:
    """Only the fields given (not None) change; a disk only grows."""

    name: str | None = None
    description: str | None = None
    provisioned_size: int | None = None


@dataclass(frozen=True)
class DiskSizes:
    virtual: int
    actual: int


class StorageDomains:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[StorageDomain]:
        return self.ctx.store.storage_domains.all()

    def get(self, domain_id: str) -> StorageDomain:
        return self.ctx.store.storage_domains.get(domain_id)

    def find(self, domain_id: str) -> StorageDomain | None:
        return self.ctx.store.storage_domains.find(domain_id)

    def find_by_name(self, name: str) -> StorageDomain | None:
        return self.ctx.store.storage_domains.by_name(name)

    def default(self) -> StorageDomain:
        """Where a new disk, ISO or import goes when no storage domain is named: the
        first."""
        domains = self.list()
        if not domains:
            raise NotFound("There is no storage domain.")
        return domains[0]

    def disk_profile(self, domain: StorageDomain) -> DiskProfile:
        """The domain's one disk profile; its id is derived from the domain's, so it is the
        same on every start."""
        return DiskProfile(id=str(uuid.uuid5(_PROFILES, domain.id)), name=domain.name,
                           storage_domain_id=domain.id)

    def list_disk_profiles(self) -> builtins.list[DiskProfile]:
        return [self.disk_profile(d) for d in self.list()]

    def get_disk_profile(self, profile_id: str) -> DiskProfile:
        for profile in self.list_disk_profiles():
            if profile.id == profile_id:
                return profile
        raise NotFound(f"There is no disk profile with id '{profile_id[:60]}'.")

    def connect_host(self, agent: HostAgent) -> None:
        """Tell a host where every storage domain lives (VDSM's ``connectStorageServer``),
        before anything uses it: from then on the engine names storage by ids only."""
        for domain in self.ctx.store.storage_domains.all():
            agent.connect_storage_domain(StorageConnection(storage_domain_id=domain.id,
                                                           path=domain.path))

    def usage(self, domain: StorageDomain) -> DomainUsage:
        stats = self.ctx.hosts.any().storage_stats(domain.id)
        committed = sum(d.provisioned_size for d in
                        self.ctx.store.disks.where(storage_domain_id=domain.id))
        return DomainUsage(stats.capacity, stats.used, stats.free, committed, ram=stats.ram)

    def require_room(self, domain: StorageDomain, size: int, *, sparse: bool = True) -> None:
        """Thin disks may promise up to ``overcommit_percent`` of the domain's capacity; at
        100 or below (overcommit off) and for preallocated disks the space must be free now."""
        if domain.status is not StorageDomainStatus.ACTIVE:
            raise InvalidState(f"Storage domain '{domain.name}' is {domain.status.value}, "
                               "not active.")
        usage = self.usage(domain)
        if domain.overcommit_percent <= 100 or not sparse:
            if size > usage.free:
                raise InsufficientResources(
                    f"Storage domain '{domain.name}' has {validation.human_size(usage.free)} "
                    f"free; the disk needs {validation.human_size(size)}.")
            return
        limit = usage.capacity * domain.overcommit_percent // 100
        if usage.committed + size > limit:
            raise InsufficientResources(
                f"Storage domain '{domain.name}' would promise "
                f"{validation.human_size(usage.committed + size)}, more than its overcommit "
                f"limit of {domain.overcommit_percent}% "
                f"({validation.human_size(limit)}).")


class Disks:
    def __init__(self, ctx: EngineContext, domains: StorageDomains) -> None:
        self.ctx = ctx
        self.domains = domains

    @audited_read(AuditAction.DISK_LIST)
    def list(self, *, actor: Actor) -> builtins.list[Disk]:
        """The disks this actor may see: all for SuperUsers, their VMs' disks for others."""
        return permissions.visible_disks(self.ctx.store, actor)

    @audited_read(AuditAction.DISK_GET)
    def get(self, disk_id: str, *, actor: Actor) -> Disk:
        return permissions.get_disk(self.ctx.store, actor, disk_id)

    @audited(AuditAction.DISK_CREATE)
    def create(self, request: DiskCreate, *, actor: Actor) -> Disk:
        validation.name(request.name, noun="disk")
        validation.positive_size(request.provisioned_size)
        domain = self.ctx.store.storage_domains.get(request.storage_domain_id)
        quotas.require(self.ctx.store, self.ctx.config.quotas, actor,
                       storage=request.provisioned_size)
        datacenter_quotas.require(self.ctx, domain_id=domain.id,
                                  storage=request.provisioned_size)
        self.domains.require_room(domain, request.provisioned_size, sparse=request.sparse)
        disk = Disk(id=self._new_disk_id(request.id), name=request.name,
                    storage_domain_id=domain.id, provisioned_size=request.provisioned_size,
                    volume_id=new_id(), format=request.format, sparse=request.sparse,
                    description=request.description, content_type=request.content_type,
                    created=time.time(), owner_id=None if actor.superuser else actor.user_id)
        return self._store_new(disk, self._create_volume(domain, disk, parent=None))

    def create_layer_over(self, base: Disk, *, name: str, template_id: str | None = None) -> Disk:
        """A thin disk whose first volume is a qcow2 layer over ``base``'s top volume:
        O(1), whatever the size (oVirt's "Thin" VM from a template)."""
        domain = self.ctx.store.storage_domains.get(base.storage_domain_id)
        self.domains.require_room(domain, base.provisioned_size, sparse=True)  # its promise
        disk = Disk(id=new_id(), name=name, storage_domain_id=domain.id,
                    provisioned_size=base.provisioned_size, volume_id=new_id(),
                    format=DiskFormat.COW, sparse=True, template_id=template_id,
                    created=time.time())
        return self._store_new(disk, self._create_volume(domain, disk, parent=base))

    @audited(AuditAction.DISK_UPDATE)
    def update(self, disk_id: str, request: DiskUpdate, *, actor: Actor) -> Disk:
        """Rename, describe or grow a disk; a disk of a running VM grows live (the guest
        sees the new size at once)."""
        store = self.ctx.store
        found = permissions.get_disk(store, actor, disk_id)
        attachment = next(iter(store.attachments.where(disk_id=found.id)), None)
        vm = store.vms.find(attachment.vm_id) if attachment is not None else None
        with self.ctx.locks.hold(vm.id if vm is not None else found.id):
            disk = store.disks.get(found.id)
            if vm is not None:
                vm = store.vms.get(vm.id)
                require_vm(actor, vm, "change the disks of")
            if disk.template_id is not None and not actor.superuser:
                raise PermissionDenied(f"{actor.name} may not change template disk "
                                       f"'{disk.name}'.")
            changes: dict[str, object] = {}
            if request.name is not None and request.name != disk.name:
                changes["name"] = validation.name(request.name, noun="disk")
            if request.description is not None and request.description != disk.description:
                changes["description"] = request.description
            size = request.provisioned_size
            if size is not None and size != disk.provisioned_size:
                self._grow(disk, size, vm, actor=actor,
                           active=attachment is not None and attachment.active)
                changes["provisioned_size"] = size
            if not changes:
                return disk
            updated = store.disks.update(replace(disk, **changes))  # type: ignore[arg-type]
        if "provisioned_size" in changes:  # oVirt's own event for a disk grown
            self.ctx.events.record(EventCode.VM_DISK_RESIZED, f"Disk {updated.name} was grown "
                                   f"to {validation.human_size(updated.provisioned_size)} by "
                                   f"{actor.name}.", vm_id=vm.id if vm is not None else None,
                                   user=actor.name)
        if set(changes) - {"provisioned_size"}:
            self.ctx.events.record(EventCode.DISK_UPDATED, f"Disk {updated.name} was edited by "
                                   f"{actor.name} ({', '.join(sorted(changes))}).",
                                   vm_id=vm.id if vm is not None else None, user=actor.name)
        return updated

    @audited(AuditAction.DISK_REMOVE)
    def remove(self, disk_id: str, *, actor: Actor) -> None:
        disk = permissions.get_disk(self.ctx.store, actor, disk_id)
        if disk.template_id is not None and not actor.superuser:
            raise PermissionDenied(f"{actor.name} may not remove template disk '{disk.name}'.")
        if disk.status is DiskStatus.LOCKED:
            raise InvalidState(f"Disk '{disk.name}' is locked (an image transfer or copy is "
                               "running); remove it when it is ok.")
        for attachment in self.ctx.store.attachments.where(disk_id=disk_id):
            vm = self.ctx.store.vms.get(attachment.vm_id)
            if vm.status.is_running:
                which = f"VM '{vm.name}'" if can_use_vm(actor, vm) else "a VM"
                raise InvalidState(f"Disk '{disk.name}' is in use by running {which}.")
        users = [v for v in self.ctx.store.volumes.all() if v.parent_id == disk.volume_id
                 and v.disk_id != disk.id]
        if users:
            raise InvalidState(f"Disk '{disk.name}' is the base of {len(users)} other disk(s).")
        self.ctx.hosts.any().delete_image(storage_domain_id=disk.storage_domain_id,
                                          image_id=disk.id)
        with self.ctx.store.db.transaction():
            for attachment in self.ctx.store.attachments.where(disk_id=disk_id):
                self.ctx.store.attachments.delete(attachment.id)
            for vol in self.ctx.store.volumes.where(disk_id=disk_id):
                self.ctx.store.volumes.delete(vol.id)
            self.ctx.store.disks.delete(disk_id)

    def sizes(self, disk: Disk) -> DiskSizes:
        """Virtual size of the top volume; actual size of this disk's own volumes."""
        agent = self.ctx.hosts.any()
        actual = 0
        virtual = disk.provisioned_size
        for vol in self.ctx.store.volumes.where(disk_id=disk.id):
            info = agent.volume_info(chains.volume(disk, vol.id), fmt=vol.format.qemu_format)
            actual += info.actual_size
            if vol.id == disk.volume_id:
                virtual = info.virtual_size
        return DiskSizes(virtual=virtual, actual=actual)

    def _new_disk_id(self, wanted: str) -> str:
        if not wanted:
            return new_id()
        try:
            chosen = str(uuid.UUID(wanted))
        except ValueError:
            raise InvalidInput(f"A disk id must be a UUID, not '{wanted[:60]}'.") from None
        if self.ctx.store.disks.find(chosen) is not None:
            raise NameInUse(f"A disk with id {chosen} exists.")
        return chosen

    def _grow(self, disk: Disk, size: int, vm: Vm | None, *, actor: Actor,
              active: bool) -> None:
        if size < disk.provisioned_size:
            raise DiskCannotShrink(
                f"Disk '{disk.name}' has {validation.human_size(disk.provisioned_size)}; a "
                f"disk can only grow, not shrink to {validation.human_size(size)}.")
        if disk.template_id is not None:
            raise InvalidState(f"Disk '{disk.name}' is a template's: VMs' disks lie over it, "
                               "so it cannot grow.")
        if disk.status is not DiskStatus.OK:
            raise InvalidState(f"Disk '{disk.name}' is {disk.status.value}; it grows when it "
                               "is ok.")
        if vm is not None and active and vm.status not in (VmStatus.UP, VmStatus.PAUSED,
                                                            VmStatus.DOWN):
            raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; its disks grow while "
                               "it is up, paused or down.")
        live = vm is not None and active and vm.status is not VmStatus.DOWN
        domain = self.ctx.store.storage_domains.get(disk.storage_domain_id)
        self.domains.require_room(domain, size - disk.provisioned_size, sparse=disk.sparse)
        quotas.require(self.ctx.store, self.ctx.config.quotas, actor,
                       storage=size - disk.provisioned_size)
        top_format = chains.volume_format(self.ctx.store, disk)  # qcow2 once snapshotted
        if live and vm is not None and vm.host_id is not None:
            self.ctx.hosts.agent(vm.host_id).resize_volume(
                chains.volume(disk), size=size, fmt=top_format, vm_id=vm.id)
        else:
            self.ctx.hosts.any().resize_volume(chains.volume(disk), size=size, fmt=top_format)

    def allocated(self, disk: Disk) -> int:
        """Bytes this disk's own volumes take on the host (cheap: no qemu-img)."""
        agent = self.ctx.hosts.any()
        return sum(agent.allocated_size(chains.volume(disk, v.id))
                   for v in self.ctx.store.volumes.where(disk_id=disk.id))

    def set_status(self, disk: Disk, status: DiskStatus) -> Disk:
        return self.ctx.store.disks.update(replace(disk, status=status))

    def _store_new(self, disk: Disk, first: Volume) -> Disk:
        with self.ctx.store.db.transaction():
            self.ctx.store.volumes.insert(first)
            return self.ctx.store.disks.insert(disk)

    def _create_volume(self, domain: StorageDomain, disk: Disk,
                       parent: Disk | None) -> Volume:
        """The disk's first volume; over ``parent``'s top when given (a template's disk)."""
        self.ctx.hosts.any().create_volume(
            chains.volume(disk), size=disk.provisioned_size, fmt=disk.format.qemu_format,
            parent=chains.volume(parent) if parent is not None else None,
            parent_format=chains.volume_format(self.ctx.store, parent) if parent else "")
        return Volume(id=disk.volume_id, disk_id=disk.id, storage_domain_id=domain.id,
                      parent_id=parent.volume_id if parent else None, format=disk.format,
                      created=time.time())
