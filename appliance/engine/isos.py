"""The ISO library: ISO images uploaded into a storage domain (as oVirt 4.4+ keeps them: disks
of content type ``iso``), attached to VMs as their CD-ROM, bootable.

An upload is streamed to the host, which writes it to a hidden file beside its final place;
it is hashed and counted on the way here, and refused (nothing kept) when it passes the size
limit or the size it announced, is not an ISO 9660 image, or does not match the checksum the
client sent: the checks raise from the stream before the host keeps the file.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import IO

from appliance.engine import chains, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import (
    BootDevice,
    DiskContentType,
    DiskFormat,
    DiskStatus,
    VmStatus,
)
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Disk, Vm, Volume
from appliance.engine.storage import StorageDomains
from appliance.errors import ImageRejected, InvalidState, NotFound

CHUNK = 1024 * 1024
# Moments when QEMU's devices are in flux: no CD-ROM change until the VM is up or down.
_CHANGING = frozenset({VmStatus.WAIT_FOR_LAUNCH, VmStatus.MIGRATING, VmStatus.SAVING_STATE,
                       VmStatus.RESTORING_STATE, VmStatus.IMAGE_LOCKED})
ISO9660_MAGIC_OFFSET = 0x8001  # "CD001" in the first volume descriptor
_HEAD = ISO9660_MAGIC_OFFSET + 5
Progress = Callable[[int], None]  # bytes received


class Isos:
    def __init__(self, ctx: EngineContext, domains: StorageDomains, copies: DiskCopies) -> None:
        self.ctx = ctx
        self.domains = domains
        self.copies = copies

    def list(self) -> list[Disk]:
        return [d for d in self.ctx.store.disks.all() if d.content_type is DiskContentType.ISO]

    @audited(AuditAction.ISO_UPLOAD)
    def upload(self, stream: IO[bytes], *, name: str, storage_domain_id: str, actor: Actor,
               size: int | None = None, sha256: str = "",
               progress: Progress | None = None) -> Disk:
        """Store an ISO image read from ``stream``; ``size`` and ``sha256`` are checked when
        the client gives them."""
        require_superuser(actor, "upload ISO images")
        validation.name(name, noun="ISO image")
        limit = self.ctx.config.storage.iso_max_size
        if size is not None and size > limit:
            raise ImageRejected(f"The ISO image has {validation.human_size(size)}; the limit is "
                                f"{validation.human_size(limit)} ([storage] iso_max_size).")
        domain = self.ctx.store.storage_domains.get(storage_domain_id)
        self.domains.require_room(domain, size or CHUNK, sparse=False)
        if any(d.name == name for d in self.list()):
            raise InvalidState(f"An ISO image named '{name}' exists; remove it or pick "
                               "another name.")
        disk = Disk(id=new_id(), name=name, storage_domain_id=domain.id,
                    provisioned_size=size or 0, volume_id=new_id(), format=DiskFormat.RAW,
                    sparse=False, status=DiskStatus.LOCKED, content_type=DiskContentType.ISO,
                    created=time.time())
        with self.ctx.store.db.transaction():
            self.ctx.store.disks.insert(disk)
            self.ctx.store.volumes.insert(Volume(id=disk.volume_id, disk_id=disk.id,
                                                 storage_domain_id=domain.id, parent_id=None,
                                                 format=DiskFormat.RAW, created=time.time()))
        upload = _IsoUpload(stream, limit=min(limit, size or limit), size=size, sha256=sha256,
                            progress=progress)
        try:
            agent = self.ctx.hosts.any()
            agent.upload_volume(upload, chains.volume(disk))
            agent.set_volume_read_only(chains.volume(disk), True)
        except BaseException:
            self.copies.discard(disk.id)
            raise
        received = upload.received
        disk = self.ctx.store.disks.update(replace(disk, status=DiskStatus.OK,
                                                   provisioned_size=received,
                                                   sha256=upload.digest.hexdigest()))
        self.ctx.events.record(EventCode.ISO_UPLOADED, f"ISO image {name} "
                               f"({validation.human_size(received)}) was uploaded by "
                               f"{actor.name}.", user=actor.name)
        return disk

    @audited(AuditAction.ISO_REMOVE)
    def remove(self, disk_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove ISO images")
        disk = self._iso(disk_id)
        users = [v.name for v in self.ctx.store.vms.all() if v.cdrom_file_id == disk.id]
        if users:
            raise InvalidState(f"ISO image '{disk.name}' is in the CD-ROM of "
                               f"{', '.join(sorted(users)[:5])}; eject it first.")
        self.copies.discard(disk.id)

    @audited(AuditAction.ISO_INSERT)
    def insert(self, vm_id: str, disk_id: str, *, actor: Actor,
               boot_first: bool = False) -> Vm:
        """Put the ISO in the VM's CD-ROM (``disk_id`` empty ejects); with ``boot_first`` the
        VM boots from it before its disks (from its next start). A running VM's drive
        changes at once, through its host."""
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.get(vm_id)
            require_vm(actor, vm, "change the CD-ROM of")
            iso = self._iso(disk_id) if disk_id else None
            if vm.status in _CHANGING:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; change its CD-ROM "
                                   "once it is up or down.")
            if vm.status.is_running and vm.host_id is not None and disk_id != vm.cdrom_file_id:
                self.ctx.hosts.agent(vm.host_id).change_cdrom(
                    vm.id, chains.volume(iso) if iso is not None else None)
                self.ctx.events.record(
                    EventCode.VM_CDROM_CHANGED if iso is not None else EventCode.VM_CDROM_EJECTED,
                    f"VM {vm.name}: " + (f"ISO image {iso.name} was put in the CD-ROM"
                                         if iso is not None else "the CD-ROM was ejected")
                    + f" by {actor.name}.", vm_id=vm.id, user=actor.name)
            boot = vm.boot
            if boot_first and disk_id:
                boot = (BootDevice.CDROM, *(b for b in vm.boot if b is not BootDevice.CDROM))
            elif not disk_id:
                boot = tuple(b for b in vm.boot if b is not BootDevice.CDROM) or \
                    (BootDevice.HD,)
            return self.ctx.store.vms.update(replace(vm, cdrom_file_id=disk_id, boot=boot))

    def _iso(self, disk_id: str) -> Disk:
        disk = self.ctx.store.disks.find(disk_id)
        if disk is None or disk.content_type is not DiskContentType.ISO:
            raise NotFound(f"There is no ISO image with id '{disk_id}'.")
        return disk


class _IsoUpload:
    """The upload as the host reads it: counted, hashed and checked on the way. Passing the
    limit stops it at once; at its end the ISO 9660 signature, the announced size and the
    checksum are checked, so a refused upload ends in an error before the host keeps it."""

    def __init__(self, stream: IO[bytes], *, limit: int, size: int | None, sha256: str,
                 progress: Progress | None) -> None:
        self._stream = stream
        self._limit = limit
        self._size = size
        self._sha256 = sha256.lower()
        self._progress = progress
        self._head = bytearray()
        self.received = 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        chunk = self._stream.read(CHUNK if size < 0 else min(size, CHUNK))
        if not chunk:
            self._check_whole()
            return chunk
        self.received += len(chunk)
        if self.received > self._limit:
            raise ImageRejected(f"The upload passed {validation.human_size(self._limit)}, the "
                                "most allowed; it was stopped.")
        self.digest.update(chunk)
        if len(self._head) < _HEAD:
            self._head += chunk[:_HEAD - len(self._head)]
        if self._progress is not None:
            self._progress(self.received)
        return chunk

    def _check_whole(self) -> None:
        if self._head[ISO9660_MAGIC_OFFSET:_HEAD] != b"CD001":
            raise ImageRejected("The upload is not an ISO 9660 image (no CD001 volume "
                                "descriptor).")
        if self._size is not None and self.received != self._size:
            raise ImageRejected(f"The upload ended after {self.received} bytes; {self._size} "
                                "were announced.")
        digest = self.digest.hexdigest()
        if self._sha256 and self._sha256 != digest:
            raise ImageRejected(f"The ISO image's SHA-256 is {digest}, not {self._sha256}: it "
                                "was damaged on the way.")
