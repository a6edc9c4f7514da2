"""A new disk filled from a file in one step, as the Admin Portal uploads one (an ISO image
into the ISO library, or a disk image): the disk is made for the upload and an image transfer
opened on it; the browser sends the file to the daemon itself. If the upload does not end
well the disk goes again."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskContentType, DiskFormat
from appliance.engine.storage import DiskCreate, Disks
from appliance.engine.transfers.model import ImageTransfer, TimeoutPolicy
from appliance.engine.transfers.service import ImageTransfers, TransferStart
from appliance.errors import ImageRejected, InvalidInput, InvalidState
from appliance.vdsm.imageio.transfers import TransferDirection, TransferFormat


class UploadKind(StrEnum):
    ISO = "iso"  # an ISO 9660 image for the ISO library
    RAW = "raw"  # a raw disk image: its bytes are the disk's
    QCOW2 = "qcow2"  # a qcow2 file, sent as it is (a ``cow`` transfer)


@dataclass(frozen=True)
class DiskUpload:
    name: str
    kind: UploadKind
    file_size: int  # bytes the client will send
    virtual_size: int  # the disk's size (a qcow2 file's header says it; else the file size)
    storage_domain_id: str


class DiskUploads:
    def __init__(self, ctx: EngineContext, disks: Disks, transfers: ImageTransfers) -> None:
        self.ctx = ctx
        self.disks = disks
        self.transfers = transfers

    @audited(AuditAction.DISK_UPLOAD_START)
    def start(self, request: DiskUpload, *, actor: Actor) -> ImageTransfer:
        require_superuser(actor, "upload disk images")
        self._check(request)
        iso = request.kind is UploadKind.ISO
        disk = self.disks.create(DiskCreate(
            name=request.name, provisioned_size=request.virtual_size,
            storage_domain_id=request.storage_domain_id,
            format=DiskFormat.COW if request.kind is UploadKind.QCOW2 else DiskFormat.RAW,
            sparse=True, content_type=DiskContentType.ISO if iso else DiskContentType.DATA,
            description="Uploaded from the Admin Portal"), actor=actor)
        try:
            return self.transfers.start(TransferStart(
                direction=TransferDirection.UPLOAD, disk_id=disk.id,
                format=TransferFormat.COW if request.kind is UploadKind.QCOW2
                else TransferFormat.RAW, timeout_policy=TimeoutPolicy.CANCEL),
                actor=actor, owns_disk=True)
        except BaseException:
            if self.ctx.store.disks.find(disk.id) is not None:  # a failed start removed it
                self.disks.remove(disk.id, actor=actor)
            raise

    def _check(self, request: DiskUpload) -> None:
        validation.name(request.name, noun="disk")
        if request.file_size <= 0 or request.virtual_size <= 0:
            raise InvalidInput("The file is empty.")
        if request.kind is not UploadKind.ISO:
            return
        limit = self.ctx.config.storage.iso_max_size
        if request.file_size > limit:
            raise ImageRejected(f"The ISO image has {validation.human_size(request.file_size)};"
                                f" the limit is {validation.human_size(limit)} ([storage] "
                                "iso_max_size).")
        for disk in self.ctx.store.disks.all():
            if disk.content_type is DiskContentType.ISO and disk.name == request.name:
                raise InvalidState(f"An ISO image named '{request.name}' exists; remove it or "
                                   "pick another name.")
