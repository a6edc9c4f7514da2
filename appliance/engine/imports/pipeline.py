"""Build a VM or template from a described foreign system and its disk images: the pipeline
behind OVA import (``appliance.engine.ova``) and V2V (``appliance.engine.v2v``).

Everything that can be checked before writing is checked first (the images' formats and
sizes, the room in the domain); then the records are made locked and a job has a host bring
the disks in (qemu-img convert). If anything fails, every record and file made for the
import is removed: nothing half-imported stays.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

from appliance.engine import chains, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.bootstrap import MANAGEMENT_NETWORK
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import (
    DiskInterface,
    DiskStatus,
    NicInterface,
    TemplateStatus,
    VmStatus,
)
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id, new_mac
from appliance.engine.imports import vmdk
from appliance.engine.imports.model import ImageFormat, OvfDisk, OvfSystem
from appliance.engine.jobs import JobContext
from appliance.engine.model import Disk, DiskAttachment, Job, Nic, Template, Vm, Volume
from appliance.engine.storage import StorageDomains
from appliance.errors import HostAgentError, ImageRejected, NameInUse
from appliance.vdsm.storage_interface import ForeignImage


@dataclass(frozen=True)
class DiskSource:
    """Where one disk's image comes from: a file the user handed over, or a byte range of
    one (an OVA's member). A capacity of 0 in ``disk`` means "ask the image"."""

    disk: OvfDisk
    format: ImageFormat
    size: int  # bytes of image data
    path: Path
    offset: int = 0
    length: int | None = None  # an archive member's size; None: the whole file

    @property
    def label(self) -> str:
        return self.disk.alias or self.disk.disk_id

    def image(self) -> ForeignImage:
        return ForeignImage(self.path, format=self.format.value, offset=self.offset,
                            length=self.length)


@dataclass(frozen=True)
class ImportTarget:
    cluster_id: str
    storage_domain_id: str
    name: str = ""  # the descriptor's name when empty
    as_template: bool | None = None  # the descriptor says when None


@dataclass(frozen=True)
class Imported:
    """An import under way: the VM or template (locked until the job ends) and what of the
    source could not be mapped."""

    id: str
    kind: str  # "vm" or "template"
    job: Job
    unmapped: tuple[str, ...]


class SystemImporter:
    def __init__(self, ctx: EngineContext, domains: StorageDomains, copies: DiskCopies) -> None:
        self.ctx = ctx
        self.domains = domains
        self.copies = copies

    @audited(AuditAction.IMPORTER_START)
    def start(self, system: OvfSystem, sources: list[DiskSource], target: ImportTarget, *,
              actor: Actor, description: str) -> Imported:
        """Check, record (locked) and convert in a job."""
        store = self.ctx.store
        domain = store.storage_domains.get(target.storage_domain_id)
        store.clusters.get(target.cluster_id)
        name = validation.name(target.name or _plain(system.name), noun="VM")
        as_template = system.is_template if target.as_template is None else target.as_template
        sources = [self._measured(s) for s in sources]
        self._require_room(domain.id, sources)
        unmapped = list(system.unmapped)
        with store.db.transaction():
            owner_id = self._record_owner(system, name, target.cluster_id, as_template)
            disks = [self._record_disk(owner_id, domain.id, s, as_template, index)
                     for index, s in enumerate(sources)]
            self._record_nics(owner_id, system, unmapped)

        def work(job: JobContext) -> None:
            self._convert(sources, disks, job)
            self._unlock(owner_id, as_template)
            self.ctx.events.record(
                EventCode.IMPORTED, f"{'Template' if as_template else 'VM'} {name} "
                f"was imported ({system.producer.value}); not mapped: "
                f"{'; '.join(unmapped) or 'nothing'}.", user=actor.name,
                vm_id=None if as_template else owner_id)

        job = self.ctx.jobs.run(description, work, owner=actor.name,
                                vm_id=None if as_template else owner_id,
                                on_failure=lambda: self._forget(owner_id, as_template))
        return Imported(owner_id, "template" if as_template else "vm", job, tuple(unmapped))

    # Steps

    def _measured(self, source: DiskSource) -> DiskSource:
        """A whole image file checked as far as it can be before anything is written: a
        VMDK's extents must lie beside it, and the capacity comes from the image when its
        description gave none."""
        if source.length is not None:
            return source  # an archive member: checked when it is copied out
        if source.format is ImageFormat.VMDK:
            with source.path.open("rb") as image:
                if vmdk.is_descriptor(image.read(64)):
                    vmdk.check_extents(source.path)
        if source.disk.capacity:
            return source
        try:
            info = self.ctx.hosts.any().inspect_image(source.image())
        except HostAgentError as exc:
            raise ImageRejected(f"Disk '{source.label}' is not a valid {source.format.value} "
                                f"image: {exc.detail}") from None
        return replace(source, disk=replace(source.disk, capacity=info.virtual_size))

    def _require_room(self, domain_id: str, sources: list[DiskSource]) -> None:
        domain = self.ctx.store.storage_domains.get(domain_id)
        capacity = sum(s.disk.capacity for s in sources)
        data = sum(s.size for s in sources)
        # Promised sizes against the overcommit limit, and the data itself (which lands
        # twice while an archive member is extracted and converted) against free space.
        self.domains.require_room(domain, capacity, sparse=True)
        self.domains.require_room(domain, 2 * data, sparse=False)

    def _record_owner(self, system: OvfSystem, name: str, cluster_id: str,
                      as_template: bool) -> str:
        store = self.ctx.store
        common = dict(memory=validation.memory(system.memory), description=system.description,
                      cpu_sockets=system.cpu_sockets, cpu_cores=system.cpu_cores,
                      cpu_threads=system.cpu_threads, os_type=system.os_type,
                      created=time.time())
        if as_template:
            if store.templates.by_name(name) is not None:
                raise NameInUse(f"The name '{name}' is already used by another template.")
            template = Template(id=new_id(), name=name, cluster_id=cluster_id,
                                status=TemplateStatus.LOCKED, **common)  # type: ignore[arg-type]
            return store.templates.insert(template).id
        if store.vms.by_name(name) is not None:
            raise NameInUse(f"The name '{name}' is already used by another VM.")
        vm = Vm(id=new_id(), name=name, cluster_id=cluster_id, status=VmStatus.IMAGE_LOCKED,
                **common)  # type: ignore[arg-type]
        return store.vms.insert(vm).id

    def _record_disk(self, owner_id: str, domain_id: str, source: DiskSource,
                     as_template: bool, index: int) -> Disk:
        store = self.ctx.store
        alias = source.disk.alias if source.disk.alias else f"disk{index + 1}"
        disk = Disk(id=new_id(), name=alias[:100], storage_domain_id=domain_id,
                    provisioned_size=source.disk.capacity, volume_id=new_id(),
                    status=DiskStatus.LOCKED, template_id=owner_id if as_template else None,
                    created=time.time())
        store.disks.insert(disk)
        store.volumes.insert(Volume(id=disk.volume_id, disk_id=disk.id,
                                    storage_domain_id=domain_id, parent_id=None,
                                    created=time.time()))
        store.attachments.insert(DiskAttachment(
            id=disk.id, vm_id=owner_id, disk_id=disk.id,
            interface=DiskInterface(source.disk.interface), bootable=source.disk.bootable))
        return disk

    def _record_nics(self, owner_id: str, system: OvfSystem, unmapped: list[str]) -> None:
        store = self.ctx.store
        for nic in system.nics:
            profile = store.vnic_profiles.by_name(nic.network) if nic.network else None
            if profile is None:
                profile = store.vnic_profiles.by_name(MANAGEMENT_NETWORK)
                unmapped.append(f"network '{nic.network or 'none'}' of NIC {nic.name} "
                                f"(connected to {MANAGEMENT_NETWORK})")
            mac = nic.mac if nic.mac and not store.nics.where(mac=nic.mac) else new_mac()
            store.nics.insert(Nic(id=new_id(), vm_id=owner_id, name=nic.name, mac=mac,
                                  vnic_profile_id=profile.id if profile else None,
                                  interface=NicInterface(nic.model)))

    def _convert(self, sources: list[DiskSource], disks: list[Disk], job: JobContext) -> None:
        agent = self.ctx.hosts.any()
        total = sum(s.size for s in sources) or 1
        done = 0
        for source, disk in zip(sources, disks, strict=True):
            before = done

            def fetched(count: int, before: int = before) -> None:
                job.progress((before + count) * 50 // total)

            def converted(percent: int, before: int = before, size: int = source.size) -> None:
                job.progress(50 + (before + size * percent // 100) * 50 // total)

            capacity = source.disk.capacity
            try:
                info = agent.import_volume(source.image(), chains.volume(disk),
                                           max_virtual_size=_rounded(capacity) if capacity
                                           else None, staged=fetched, progress=converted)
            except ImageRejected as exc:
                raise ImageRejected(f"Disk '{source.label}' {exc.detail}") from None
            except HostAgentError as exc:
                raise ImageRejected(f"Disk '{source.label}' could not be converted: "
                                    f"{exc.detail}") from None
            done += source.size
            self.ctx.store.disks.update(replace(disk, status=DiskStatus.OK,
                                                provisioned_size=info.virtual_size))

    def _unlock(self, owner_id: str, as_template: bool) -> None:
        store = self.ctx.store
        if as_template:
            for disk in store.disks.where(template_id=owner_id):
                self.ctx.hosts.any().set_volume_read_only(chains.volume(disk), True)
            store.templates.update(replace(store.templates.get(owner_id),
                                           status=TemplateStatus.OK))
        else:
            store.vms.update(replace(store.vms.get(owner_id), status=VmStatus.DOWN))

    def _forget(self, owner_id: str, as_template: bool) -> None:
        store = self.ctx.store
        for attachment in store.attachments.where(vm_id=owner_id):
            self.copies.discard(attachment.disk_id)
        with store.db.transaction():
            for nic in store.nics.where(vm_id=owner_id):
                store.nics.delete(nic.id)
            if as_template:
                store.templates.delete(owner_id)
            else:
                store.vms.delete(owner_id)


def _plain(name: str) -> str:
    """A foreign name made valid for VirtStick ("Debian 12 (64-bit)" -> "Debian_12_64-bit")."""
    cleaned = re.sub(r"[^\w.-]+", "_", name).strip("_.-")[:64]
    return cleaned or "imported"


def _rounded(capacity: int) -> int:
    """Descriptions round capacities; an image may be up to the next GiB larger."""
    gib = 1 << 30
    return -(-capacity // gib) * gib
