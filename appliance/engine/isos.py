"""The ISO library: ISO images uploaded into a storage domain (as oVirt 4.4+ keeps them: disks
of content type ``iso``), attached to VMs as their CD-ROM, bootable.

An upload is streamed to a hidden file beside its final place, hashed and counted on the way;
it is refused (and nothing kept) when it passes the size limit or the size it announced, is
not an ISO 9660 image, or does not match the checksum the client sent.
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
from appliance.engine.enums import BootDevice, DiskContentType, DiskFormat, DiskStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Disk, Vm, Volume
from appliance.engine.storage import StorageDomains
from appliance.errors import ImageRejected, InvalidState, NotFound

CHUNK = 1024 * 1024
ISO9660_MAGIC_OFFSET = 0x8001  # "CD001" in the first volume descriptor
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
        try:
            received, digest = self._receive(stream, disk, limit=min(limit, size or limit),
                                             progress=progress)
            if size is not None and received != size:
                raise ImageRejected(f"The upload ended after {received} bytes; {size} were "
                                    "announced.")
            if sha256 and sha256.lower() != digest:
                raise ImageRejected(f"The ISO image's SHA-256 is {digest}, not {sha256}: it was "
                                    "damaged on the way.")
        except BaseException:
            self.copies.discard(disk.id)
            raise
        disk = self.ctx.store.disks.update(replace(disk, status=DiskStatus.OK,
                                                   provisioned_size=received, sha256=digest))
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
        VM boots from it before its disks. Takes effect at the next start."""
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.get(vm_id)
            require_vm(actor, vm, "change the CD-ROM of")
            if disk_id:
                self._iso(disk_id)
            boot = vm.boot
            if boot_first and disk_id:
                boot = (BootDevice.CDROM, *(b for b in vm.boot if b is not BootDevice.CDROM))
            elif not disk_id:
                boot = tuple(b for b in vm.boot if b is not BootDevice.CDROM) or \
                    (BootDevice.HD,)
            return self.ctx.store.vms.update(replace(vm, cdrom_file_id=disk_id, boot=boot))

    def path_of(self, disk_id: str) -> str:
        """The host path QEMU opens for the VM's CD-ROM."""
        return str(chains.ref(self.ctx.store, self._iso(disk_id)).path)

    def _receive(self, stream: IO[bytes], disk: Disk, *, limit: int,
                 progress: Progress | None) -> tuple[int, str]:
        final = chains.ref(self.ctx.store, disk).path
        final.parent.mkdir(parents=True, exist_ok=True)
        final.parent.chmod(0o755)
        partial = final.parent / f".upload-{disk.volume_id}"
        digest = hashlib.sha256()
        received = 0
        try:
            with partial.open("xb") as out:
                while chunk := stream.read(CHUNK):
                    received += len(chunk)
                    if received > limit:
                        raise ImageRejected(f"The upload passed {validation.human_size(limit)}"
                                            ", the most allowed; it was stopped.")
                    digest.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(received)
            with partial.open("rb") as image:
                image.seek(ISO9660_MAGIC_OFFSET)
                if image.read(5) != b"CD001":
                    raise ImageRejected("The upload is not an ISO 9660 image (no CD001 "
                                        "volume descriptor).")
            partial.chmod(0o444)
            partial.rename(final)
        finally:
            partial.unlink(missing_ok=True)
        return received, digest.hexdigest()

    def _iso(self, disk_id: str) -> Disk:
        disk = self.ctx.store.disks.find(disk_id)
        if disk is None or disk.content_type is not DiskContentType.ISO:
            raise NotFound(f"There is no ISO image with id '{disk_id}'.")
        return disk
