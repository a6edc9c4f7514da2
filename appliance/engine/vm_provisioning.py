"""A new VM with its devices in one step, as the New VM dialog asks for it: the VM from a
template, a new disk, its NIC and an ISO in the CD-ROM, in one transaction.

Either the whole VM is made or nothing is left: the store's rows roll back together, and
the disk images written on the way are deleted again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.clusters import Clusters
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import BootDevice, DiskInterface
from appliance.engine.isos import Isos
from appliance.engine.model import BLANK_TEMPLATE_ID, Vm
from appliance.engine.storage import DiskCreate, Disks, StorageDomains
from appliance.engine.vms import NicCreate, VmCreate, Vms
from appliance.errors import NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewVm:
    name: str
    template_id: str = BLANK_TEMPLATE_ID
    cluster_id: str | None = None  # None: the default cluster
    memory: int | None = None  # None: the template's
    cpu_sockets: int | None = None
    description: str = ""
    disk_size: int = 0  # a new bootable thin disk of this size; 0: none
    storage_domain_id: str | None = None  # of the new disk; None: the default domain
    vnic_profile_id: str | None = None  # a NIC on it, when the template brings none
    iso_id: str | None = None  # in the CD-ROM
    boot_from_cdrom: bool = False  # the CD-ROM first, then the disk


class VmProvisioning:
    def __init__(self, ctx: EngineContext, *, vms: Vms, disks: Disks, isos: Isos,
                 clusters: Clusters, domains: StorageDomains, copies: DiskCopies) -> None:
        self.ctx = ctx
        self._vms = vms
        self._disks = disks
        self._isos = isos
        self._clusters = clusters
        self._domains = domains
        self._copies = copies

    @audited(AuditAction.VM_PROVISIONING_CREATE)
    def create(self, request: NewVm, *, actor: Actor) -> Vm:
        self._check_references(request)
        made: list[str] = []  # ids of the disks whose images were written
        with self.ctx.store.db.transaction():
            try:
                vm = self._create_vm(request, actor=actor)
                made += [a.disk_id for a in self.ctx.store.attachments.where(vm_id=vm.id)]
                if request.disk_size > 0:
                    disk_id = self._new_disk(vm, request, actor=actor)
                    made.append(disk_id)
                    self._vms.attach_disk(vm.id, disk_id, actor=actor,
                                          interface=DiskInterface.VIRTIO, bootable=True)
                if request.iso_id:
                    vm = self._isos.insert(vm.id, request.iso_id, actor=actor,
                                           boot_first=request.boot_from_cdrom)
                if request.vnic_profile_id and not self.ctx.store.nics.where(vm_id=vm.id):
                    self._vms.add_nic(vm.id, NicCreate(name="nic1",
                                                       vnic_profile_id=request.vnic_profile_id),
                                      actor=actor)
            except BaseException:
                self._discard(made)
                raise
        return vm

    def _check_references(self, request: NewVm) -> None:
        """What the VM names must exist before any image is written."""
        if request.disk_size < 0:
            validation.positive_size(request.disk_size)
        store = self.ctx.store
        store.templates.get(request.template_id)
        if request.vnic_profile_id:
            store.vnic_profiles.get(request.vnic_profile_id)
        if request.iso_id and all(d.id != request.iso_id for d in self._isos.list()):
            raise NotFound(f"There is no ISO image with id '{request.iso_id}'.")
        if request.storage_domain_id and request.disk_size > 0:
            store.storage_domains.get(request.storage_domain_id)

    def _create_vm(self, request: NewVm, *, actor: Actor) -> Vm:
        cluster_id = request.cluster_id or self._clusters.default().id
        boot = (BootDevice.CDROM, BootDevice.HD) if request.boot_from_cdrom else None
        return self._vms.create(VmCreate(
            name=request.name, cluster_id=cluster_id, template_id=request.template_id,
            memory=request.memory, cpu_sockets=request.cpu_sockets,
            description=request.description, boot=boot), actor=actor)

    def _new_disk(self, vm: Vm, request: NewVm, *, actor: Actor) -> str:
        domain_id = request.storage_domain_id or self._domains.default().id
        return self._disks.create(DiskCreate(name=f"{vm.name}_disk1",
                                             provisioned_size=request.disk_size,
                                             storage_domain_id=domain_id), actor=actor).id

    def _discard(self, disk_ids: list[str]) -> None:
        # Inside the failing transaction, so the disks' rows are still there to find them;
        # the rollback then removes the rows, this the images.
        for disk_id in disk_ids:
            try:
                self._copies.discard(disk_id)
            except Exception:
                log.exception("could not delete the image of disk %s of a VM not made",
                              disk_id)


__all__ = ["NewVm", "VmProvisioning"]
